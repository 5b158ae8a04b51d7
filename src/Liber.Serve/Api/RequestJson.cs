using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Liber.Serve.Api;

/// <summary>
/// Reading request bodies into their DTOs (<see cref="EventsRequest"/>, ...), so that every error names its field and index,
/// e.g. <c>events[3].timestamp</c>, and no malformed input reaches a handler as an exception: the bytes (413 past the limit),
/// the JSON (400 for malformed JSON, too deep, duplicate keys), the strict deserializer (400 naming every field of the wrong
/// type, missing, null or unknown); the endpoints then check the values with the DTO's <c>Validate</c>.
/// </summary>
internal static class RequestJson
{
    /// <summary>Nesting the bodies need at most (object, array, object, array of strings); deeper bodies are malformed.</summary>
    private const int MaxDepth = 16;

    /// <summary>
    /// How bodies are deserialized: the DTOs' JSON names (snake_case, as the HTTP options write them and OpenAPI shows them),
    /// JSON numbers only (never numeric strings), unknown fields refused, the DTOs' constructor parameters required unless they
    /// have a default, their nullable annotations respected (null only where a field is nullable), duplicate keys refused.
    /// </summary>
    public static readonly JsonSerializerOptions Options = CreateOptions();

    /// <summary>Reads a JSON body of at most <paramref name="max"/> bytes: 413 beyond it, 400 for malformed JSON (its position, no stack).</summary>
    public static async Task<(JsonDocument? Doc, IResult? Error)> ReadAsync(HttpRequest request, long max)
    {
        if (request.ContentLength > max)
        {
            // Answer without reading the body, and close the connection rather than drain it.
            request.HttpContext.Response.Headers.Connection = "close";
            return (null, TooLarge(max));
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[64 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    request.HttpContext.Response.Headers.Connection = "close";
                    return (null, TooLarge(max));
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(max));
        }

        try
        {
            // Duplicate keys are refused: which of two "timestamp" values a reader takes is not something to leave to chance.
            var options = new JsonDocumentOptions { MaxDepth = MaxDepth, AllowDuplicateProperties = false };
            return (JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), options), null);
        }
        catch (JsonException e)
        {
            string why = e.Message.Contains("duplicate", StringComparison.OrdinalIgnoreCase) ? "a property appears twice in one object"
                : e.Message.Contains("depth", StringComparison.OrdinalIgnoreCase) ? $"it is nested deeper than {MaxDepth} levels"
                : "it is not valid JSON";
            return (null, Results.Problem(statusCode: 400, title: "malformed JSON", detail: $"the body is not valid JSON: {why} (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})"));
        }
    }

    /// <summary>The 413 problem.</summary>
    public static IResult TooLarge(long max) =>
        Results.Problem(statusCode: 413, title: "request body too large", detail: $"request bodies are limited to {max:N0} bytes");

    /// <summary>
    /// Reads a body (<see cref="ReadAsync(HttpRequest, long)"/>: 413, malformed JSON) into its DTO <typeparamref name="T"/>
    /// (<see cref="Bind{T}"/>): the body, or the problem to answer (a 400 naming every field of the wrong JSON type).
    /// </summary>
    public static async Task<(T? Body, IResult? Error)> ReadAsync<T>(HttpRequest request, long max)
        where T : class
    {
        (JsonDocument? doc, IResult? error) = await ReadAsync(request, max).ConfigureAwait(false);
        if (doc is null)
        {
            return (null, error);
        }

        using (doc)
        {
            var errors = new Errors();
            T? body = Bind<T>(doc.RootElement, errors);
            return body is null ? (null, errors.Result()) : (body, null);
        }
    }

    /// <summary>
    /// The body as its DTO, read by the strict deserializer (<see cref="Options"/>), or null with every shape problem in
    /// <paramref name="errors"/>: when the deserializer refuses the body (it stops at the first problem), the body is walked
    /// along the DTO's contract to name every field that is missing, null where it may not be, unknown, or of the wrong JSON
    /// type, each under its path (<c>events[3].timestamp</c>) with its DTO's message (the ShapeError methods).
    /// </summary>
    public static T? Bind<T>(JsonElement root, Errors errors)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(errors);
        JsonTypeInfo info = Options.GetTypeInfo(typeof(T));
        try
        {
            if (root.Deserialize(info) is T body)
            {
                return body;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            CheckValue(root, info, "", typeof(T), "$", nullable: false, errors);
            if (!errors.Any)
            {
                // The walk found nothing the deserializer did: still a 400 under the field it named, never a 500.
                errors.Add(FieldPath((e as JsonException)?.Path), "is not valid for this field's type (see /openapi/v1.json)");
            }

            return null;
        }

        // The body was the JSON literal null.
        errors.Add("$", RequestRules.ShapeError(typeof(T), "$", JsonValueKind.Null));
        return null;
    }

    /// <summary>
    /// A System.Text.Json path (<see cref="JsonException.Path"/>: <c>$.events[3].timestamp</c>, <c>$['a b']</c>) in the style
    /// of the errors (<c>events[3].timestamp</c>, <c>a b</c>; the body itself is <c>$</c>).
    /// </summary>
    public static string FieldPath(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath))
        {
            return "$";
        }

        var path = new StringBuilder();
        int i = jsonPath[0] == '$' ? 1 : 0;
        while (i < jsonPath.Length)
        {
            if (jsonPath[i] == '.')
            {
                int end = jsonPath.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? jsonPath.Length : end;
                Name(jsonPath[(i + 1)..end]);
                i = end;
            }
            else if (string.CompareOrdinal(jsonPath, i, "['", 0, 2) == 0)
            {
                int end = jsonPath.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? jsonPath.Length : end;
                Name(jsonPath[(i + 2)..end]);
                i = Math.Min(end + 2, jsonPath.Length);
            }
            else if (jsonPath[i] == '[')
            {
                int end = jsonPath.IndexOf(']', i);
                end = end < 0 ? jsonPath.Length - 1 : end;
                path.Append(jsonPath, i, end - i + 1);
                i = end + 1;
            }
            else
            {
                Name(jsonPath[i..]);
                break;
            }
        }

        return path.Length == 0 ? "$" : path.ToString();

        void Name(string name)
        {
            if (path.Length > 0)
            {
                path.Append('.');
            }

            path.Append(name);
        }
    }

    /// <summary>
    /// Adds the problem of one value, if any, and of everything in it: <paramref name="owner"/> is the DTO that declares the
    /// field and <paramref name="field"/> its JSON name there ("name[]" for an element, "$" for the body), which choose the message.
    /// </summary>
    private static void CheckValue(JsonElement value, JsonTypeInfo info, string path, Type owner, string field, bool nullable, Errors errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            if (!nullable)
            {
                errors.Add(At(path), RequestRules.ShapeError(owner, field, JsonValueKind.Null));
            }

            return;
        }

        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                if (value.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(At(path), RequestRules.ShapeError(owner, field, value.ValueKind));
                }
                else
                {
                    CheckObject(value, info, path, errors);
                }

                return;
            case JsonTypeInfoKind.Enumerable when info.ElementType is Type elementType:
                if (value.ValueKind != JsonValueKind.Array)
                {
                    errors.Add(At(path), RequestRules.ShapeError(owner, field, value.ValueKind));
                    return;
                }

                // Elements are never null in the DTOs (string[], EventDto[]): a null element is the element's problem.
                JsonTypeInfo element = Options.GetTypeInfo(elementType);
                int i = 0;
                foreach (JsonElement e in value.EnumerateArray())
                {
                    CheckValue(e, element, $"{path}[{i++}]", owner, field + "[]", nullable: false, errors);
                }

                return;
            default:
                try
                {
                    _ = value.Deserialize(info);
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException)
                {
                    errors.Add(At(path), RequestRules.ShapeError(owner, field, value.ValueKind));
                }

                return;
        }
    }

    /// <summary>Adds the problems of an object's fields: unknown ones, then missing required ones, besides each value's.</summary>
    private static void CheckObject(JsonElement value, JsonTypeInfo info, string path, Errors errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty p in value.EnumerateObject())
        {
            string name;
            try
            {
                name = p.Name;
            }
            catch (InvalidOperationException)
            {
                errors.Add(At(path), "a field name is not valid Unicode");
                continue;
            }

            string at = path.Length == 0 ? name : $"{path}.{name}";
            if (info.Properties.FirstOrDefault(x => x.Name == name) is not JsonPropertyInfo property)
            {
                errors.Add(at, RequestRules.UnknownField);
                continue;
            }

            seen.Add(name);
            bool nullable = property.AssociatedParameter?.IsNullable ?? property.IsSetNullable;
            CheckValue(p.Value, Options.GetTypeInfo(property.PropertyType), at, info.Type, name, nullable, errors);
        }

        foreach (JsonPropertyInfo property in info.Properties)
        {
            if (property.IsRequired && !seen.Contains(property.Name))
            {
                errors.Add(path.Length == 0 ? property.Name : $"{path}.{property.Name}", RequestRules.ShapeError(info.Type, property.Name, JsonValueKind.Undefined));
            }
        }
    }

    private static string At(string path) => path.Length == 0 ? "$" : path;

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = JsonNumberHandling.Strict,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectRequiredConstructorParameters = true,
            RespectNullableAnnotations = true,
            AllowDuplicateProperties = false,
            MaxDepth = MaxDepth,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        };
        options.MakeReadOnly();
        return options;
    }
}

/// <summary>Validation errors by field path (the first 100 fields kept), answered as one 400 problem.</summary>
internal sealed class Errors
{
    private const int MaxFields = 100;
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);
    private int _dropped;

    /// <summary>Whether any error was added.</summary>
    public bool Any => _errors.Count > 0;

    /// <summary>The messages by field path, as the problem lists them.</summary>
    public IReadOnlyDictionary<string, string[]> Fields => _errors;

    /// <summary>The 400 problem listing <paramref name="problems"/> (a DTO's <c>Validate</c>), or null when there are none.</summary>
    public static IResult? Check(IEnumerable<(string Path, string Error)> problems)
    {
        var errors = new Errors();
        foreach ((string path, string error) in problems)
        {
            errors.Add(path, error);
        }

        return errors.Any ? errors.Result() : null;
    }

    /// <summary>Adds a message under a field path.</summary>
    public void Add(string field, string message)
    {
        if (_errors.TryGetValue(field, out string[]? m))
        {
            _errors[field] = [.. m, message];
        }
        else if (_errors.Count < MaxFields)
        {
            _errors[field] = [message];
        }
        else
        {
            _dropped++;
        }
    }

    /// <summary>The 400 validation problem listing the fields.</summary>
    public IResult Result() => Results.ValidationProblem(_errors, title: "invalid request",
        detail: _dropped == 0 ? $"{_errors.Count} field(s) are invalid; nothing was applied" : $"{_errors.Count + _dropped} field(s) are invalid (the first {MaxFields} are listed); nothing was applied");
}
