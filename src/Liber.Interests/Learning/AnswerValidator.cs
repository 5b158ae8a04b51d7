using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Liber.Interests.Learning;

/// <summary>An answer that failed validation; retried, then recorded as a failure with <see cref="Reason"/>.</summary>
public sealed class InvalidAnswerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidAnswerException(string reason)
        : base($"invalid answer: {reason}") => Reason = reason;

    /// <summary>Creates the exception.</summary>
    public InvalidAnswerException()
        : this("unspecified")
    {
    }

    /// <summary>Creates the exception.</summary>
    public InvalidAnswerException(string message, Exception inner)
        : base(message, inner) => Reason = message;

    /// <summary>Short reason (e.g. empty, too long, not JSON, schema).</summary>
    public string Reason { get; }

    /// <summary>False once the partition has had its share of invalid answers: no further retry.</summary>
    public bool Retriable { get; init; } = true;
}

/// <summary>Validates model answers: non-empty, length-capped text; one-call answers against a JSON schema.</summary>
public static partial class AnswerValidator
{
    /// <summary>The JSON schema of a one-call answer.</summary>
    public const string OneCallSchemaText = """
        {
          "type": "object",
          "properties": {
            "summary": { "type": "string", "minLength": 1 },
            "shift": { "type": ["string", "null"] }
          },
          "required": ["summary", "shift"]
        }
        """;

    private static readonly JsonSchema OneCallSchema = JsonSchema.FromText(OneCallSchemaText);

    /// <summary>The cleaned text of a plain answer (reasoning blocks removed, trimmed), or throws <see cref="InvalidAnswerException"/>.</summary>
    public static string Text(string? answer, int maxChars)
    {
        string text = Think().Replace(answer ?? string.Empty, string.Empty).Trim();
        if (text.Length == 0)
        {
            throw new InvalidAnswerException("empty");
        }

        if (text.Length > maxChars)
        {
            throw new InvalidAnswerException($"too long ({text.Length} > {maxChars} chars)");
        }

        return text;
    }

    /// <summary>Parses and validates a one-call answer; the shift must be a non-empty string unless <paramref name="isFirst"/> (then it is dropped).</summary>
    public static (string Summary, string? Shift) OneCall(string? answer, bool isFirst, int maxChars)
    {
        string text = Think().Replace(answer ?? string.Empty, string.Empty).Trim();
        Match fence = Fence().Match(text);
        if (fence.Success)
        {
            text = fence.Groups[1].Value.Trim();
        }

        if (text.Length == 0)
        {
            throw new InvalidAnswerException("empty");
        }

        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(text);
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidAnswerException($"not JSON ({e.Message.Split('.')[0]})");
        }

        EvaluationResults results = OneCallSchema.Evaluate(root, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (!results.IsValid)
        {
            string detail = results.Details?.Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).FirstOrDefault() ?? "does not match";
            throw new InvalidAnswerException($"schema ({detail})");
        }

        string summary = Text(root.GetProperty("summary").GetString(), maxChars);
        JsonElement shiftEl = root.GetProperty("shift");
        if (isFirst)
        {
            return (summary, null);
        }

        if (shiftEl.ValueKind != JsonValueKind.String)
        {
            throw new InvalidAnswerException("schema (shift is null but the partition has a predecessor)");
        }

        return (summary, Text(shiftEl.GetString(), maxChars));
    }

    /// <summary>The canonical JSON stored for a validated one-call answer.</summary>
    public static string CanonicalOneCall(string summary, string? shift) =>
        new JsonObject { ["summary"] = summary, ["shift"] = shift }.ToJsonString();

    [GeneratedRegex(@"<think>.*?</think>", RegexOptions.Singleline)]
    private static partial Regex Think();

    [GeneratedRegex(@"^```(?:json)?\s*(.*?)\s*```$", RegexOptions.Singleline)]
    private static partial Regex Fence();
}
