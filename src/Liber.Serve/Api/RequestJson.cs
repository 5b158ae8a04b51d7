using System.Text.Json;
using Liber.Core.Data;
using Microsoft.AspNetCore.Http;

namespace Liber.Serve.Api;

/// <summary>
/// Reading and checking request bodies by hand (one pass over a <see cref="JsonDocument"/>), so that every error names its
/// field and index, e.g. <c>events[3].timestamp</c>, and no malformed input reaches a handler as an exception.
/// </summary>
internal static class RequestJson
{
    /// <summary>Nesting the bodies need at most (object, array, object, array of strings); deeper bodies are malformed.</summary>
    private const int MaxDepth = 16;

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

    /// <summary>The array property <paramref name="name"/> of the root object, or false with an error.</summary>
    public static bool Array(JsonElement root, string name, Errors errors, out JsonElement list)
    {
        list = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", "the body must be a JSON object");
            return false;
        }

        if (!root.TryGetProperty(name, out list) || list.ValueKind != JsonValueKind.Array)
        {
            errors.Add(name, "required: an array");
            return false;
        }

        return !errors.Any;
    }

    /// <summary>A required int64 property (a JSON integer, never a numeric string), or null with an error.</summary>
    public static long? Int64(JsonElement e, string at, string name, Errors errors)
    {
        if (e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long x))
        {
            return x;
        }

        errors.Add($"{at}.{name}", "required: an integer (int64)");
        return null;
    }

    /// <summary>A required external id (the rules of <see cref="EventRules.IdProblem"/>), or null with an error.</summary>
    public static string? Id(JsonElement e, string? at, string name, Errors errors)
    {
        string field = at is null ? name : $"{at}.{name}";
        if (!e.TryGetProperty(name, out JsonElement v) || v.ValueKind != JsonValueKind.String)
        {
            errors.Add(field, $"required: a non-empty string of at most {EventRules.MaxIdLength} Unicode characters");
            return null;
        }

        return CheckedId(v, field, errors);
    }

    /// <summary>A JSON string element as an external id, or null with an error under <paramref name="field"/>.</summary>
    public static string? CheckedId(JsonElement v, string field, Errors errors)
    {
        if (!TryString(v, out string? s))
        {
            errors.Add(field, $"must be a string of valid Unicode of at most {EventRules.MaxIdLength} characters");
            return null;
        }

        if (EventRules.IdProblem(s) is string problem)
        {
            errors.Add(field, problem);
            return null;
        }

        return s;
    }

    /// <summary>An optional string property of at most <paramref name="max"/> UTF-16 units, or null (absent, null, or an error).</summary>
    public static string? Text(JsonElement e, string at, string name, int max, Errors errors)
    {
        if (!e.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (!TryString(v, out string? s) || s.Length > max)
        {
            errors.Add($"{at}.{name}", $"must be a string of valid Unicode of at most {max} characters or null");
            return null;
        }

        return s;
    }

    /// <summary>An optional array of at most 100 short strings (empty when absent or null).</summary>
    public static string[] Strings(JsonElement e, string at, string name, Errors errors)
    {
        if (!e.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() > 100)
        {
            errors.Add($"{at}.{name}", "must be an array of at most 100 strings or null");
            return [];
        }

        var list = new List<string>();
        int i = 0;
        foreach (JsonElement s in v.EnumerateArray())
        {
            if (!TryString(s, out string? str) || str is not { Length: > 0 and <= 200 })
            {
                errors.Add($"{at}.{name}[{i}]", "must be a non-empty string of at most 200 characters");
            }
            else
            {
                list.Add(str);
            }

            i++;
        }

        return [.. list];
    }

    /// <summary>
    /// A string element's value; false for a non-string or for text that is not valid Unicode (invalid UTF-8 bytes, or an
    /// escaped lone surrogate such as "\ud800"), which <see cref="JsonElement.GetString"/> reports by throwing.
    /// </summary>
    public static bool TryString(JsonElement v, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        value = null;
        if (v.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        try
        {
            value = v.GetString();
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        if (value is null || HasLoneSurrogate(value))
        {
            value = null;
            return false;
        }

        return true;
    }

    private static bool HasLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return true;
            }
        }

        return false;
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
