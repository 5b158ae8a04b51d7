using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Liber.Models.Backbones;

/// <summary>
/// Sets <see cref="BackboneOptions"/> by their JSON keys (<c>embedding_size=64</c>, <c>hidden=256,128</c>), the way
/// <c>liber train --set</c> and <c>liber run --set</c> do: the record is written to JSON, the keys replaced and the result read back
/// strictly, so every option of the record (and every one added later) can be set without a flag of its own, and a key the
/// record does not have is an error naming it and the known keys.
/// </summary>
public static class BackboneOptionSettings
{
    private static readonly JsonSerializerOptions Strict = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
    };

    /// <summary>The JSON keys of <see cref="BackboneOptions"/>, in declaration order.</summary>
    public static IReadOnlyList<string> Keys { get; } = typeof(BackboneOptions).GetProperties()
        .Select(p => p.GetCustomAttributes(typeof(JsonPropertyNameAttribute), false).OfType<JsonPropertyNameAttribute>().FirstOrDefault()?.Name)
        .OfType<string>()
        .ToArray();

    /// <summary>Parses <c>key=value</c> settings (one-line errors naming the setting).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Parse(IEnumerable<string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var parsed = new List<KeyValuePair<string, string>>();
        foreach (string s in settings)
        {
            int eq = s.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == s.Length - 1)
            {
                throw new ArgumentException($"--set {s}: expected key=value, e.g. embedding_size=64 or hidden=256,128 (keys: {string.Join(", ", Keys)})");
            }

            parsed.Add(new(s[..eq].Trim(), s[(eq + 1)..].Trim()));
        }

        return parsed;
    }

    /// <summary>
    /// <paramref name="options"/> with each setting applied (later settings win). Values: numbers, <c>true</c>/<c>false</c>,
    /// lists as <c>256,128</c> or JSON arrays (an empty list as <c>[]</c>), names such as <c>sentiment</c>, <c>null</c> where the
    /// option may be unset. The result is validated (<see cref="BackboneOptions.Validate"/>).
    /// </summary>
    public static BackboneOptions Apply(BackboneOptions options, IEnumerable<KeyValuePair<string, string>> settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var json = (JsonObject)JsonSerializer.SerializeToNode(options)!;
        bool any = false;
        foreach ((string key, string value) in settings)
        {
            if (!Keys.Contains(key, StringComparer.Ordinal))
            {
                throw new ArgumentException($"backbone option {key}: unknown; the keys are {string.Join(", ", Keys)}");
            }

            json[key] = ValueNode(key, value, json[key]);
            any = true;
        }

        if (!any)
        {
            return options;
        }

        BackboneOptions result;
        try
        {
            result = json.Deserialize<BackboneOptions>(Strict) ?? throw new ArgumentException("backbone options: null");
        }
        catch (JsonException e)
        {
            string key = e.Path?.TrimStart('$', '.') ?? "?";
            throw new ArgumentException($"backbone option {key}: {settings.LastOrDefault(s => s.Key == key).Value} is not a valid value for it", e);
        }

        result.Validate();
        return result;
    }

    private static JsonNode? ValueNode(string key, string value, JsonNode? current)
    {
        if (value == "null")
        {
            return null;
        }

        bool isList = current is JsonArray;
        if (isList && !value.StartsWith('['))
        {
            var list = new JsonArray();
            foreach (string part in value.Split(',', StringSplitOptions.TrimEntries))
            {
                list.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? JsonValue.Create(n) : throw new ArgumentException($"backbone option {key}: {value} is not a list of whole numbers, e.g. 256,128"));
            }

            return list;
        }

        try
        {
            return JsonNode.Parse(value);
        }
        catch (JsonException)
        {
            // Not JSON: a name such as "sentiment".
            return JsonValue.Create(value);
        }
    }
}
