using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Liber.Core.Data;
using Liber.Core.Partitioning;

namespace Liber.Interests;

/// <summary>
/// Interest texts as JSON lines, one object per partition in <see cref="PartitionSet.All"/> order
/// (user, number, start, end, status, reason, backend, model, template_version, summary, shift,
/// prompt_tokens, completion_tokens, llm_calls), so that later stages can load what <c>liber learn --out</c> wrote.
/// </summary>
public static class InterestTextsFile
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Writes the texts.</summary>
    public static void Write(string path, InterestTexts texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        using var writer = new StreamWriter(path);
        for (int i = 0; i < texts.All.Count; i++)
        {
            Partition p = texts.Partitions.All[i];
            InterestRecord r = texts.All[i];
            writer.WriteLine(JsonSerializer.Serialize(new Line(r.User, r.Number, p.Start, p.End, r.Status.ToString().ToLowerInvariant(), r.Reason, r.Backend, r.Model,
                r.TemplateVersion, r.Summary, r.Shift, r.PromptTokens, r.CompletionTokens, r.LlmCalls), Options));
        }
    }

    /// <summary>Reads texts written for <paramref name="partitions"/>; every line must match its partition (user, number, start, end).</summary>
    /// <exception cref="DataFormatException">A line is malformed or belongs to another partition set; the message names file and line.</exception>
    public static InterestTexts Read(string path, PartitionSet partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"interest texts file '{path}' not found", path);
        }

        var records = new List<InterestRecord>(partitions.Count);
        long lineNo = 0;
        foreach (string text in File.ReadLines(path))
        {
            lineNo++;
            if (text.Length == 0)
            {
                continue;
            }

            Line? l;
            try
            {
                l = JsonSerializer.Deserialize<Line>(text, Options);
            }
            catch (JsonException e)
            {
                throw new DataFormatException(path, lineNo, $"not a JSON interest record ({e.Message})", text);
            }

            int i = records.Count;
            if (l is null || i >= partitions.Count)
            {
                throw new DataFormatException(path, lineNo, $"more records than the {partitions.Count} partitions", text);
            }

            Partition p = partitions.All[i];
            if (l.User != p.User || l.Number != p.Number || l.Start != p.Start || l.End != p.End)
            {
                throw new DataFormatException(path, lineNo, $"record for user {l.User} partition {l.Number} [{l.Start}, {l.End}] but partition {i} is user {p.User} partition {p.Number} [{p.Start}, {p.End}]: written for another data set or policy", text);
            }

            if (!Enum.TryParse(l.Status, ignoreCase: true, out InterestStatus status))
            {
                throw new DataFormatException(path, lineNo, $"unknown status '{l.Status}'", text);
            }

            records.Add(new InterestRecord(l.User, l.Number, l.Summary, l.Shift, status, l.Reason, l.Backend ?? "unknown", l.Model ?? "unknown", l.TemplateVersion ?? "unknown",
                l.PromptTokens, l.CompletionTokens, l.LlmCalls));
        }

        if (records.Count != partitions.Count)
        {
            throw new DataFormatException(path, 0, $"{records.Count} records for {partitions.Count} partitions");
        }

        return new InterestTexts(partitions, records);
    }

    private sealed record Line(
        [property: JsonPropertyName("user")] int User,
        [property: JsonPropertyName("number")] int Number,
        [property: JsonPropertyName("start")] int Start,
        [property: JsonPropertyName("end")] int End,
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("reason")] string? Reason,
        [property: JsonPropertyName("backend")] string? Backend,
        [property: JsonPropertyName("model")] string? Model,
        [property: JsonPropertyName("template_version")] string? TemplateVersion,
        [property: JsonPropertyName("summary")] string? Summary,
        [property: JsonPropertyName("shift")] string? Shift,
        [property: JsonPropertyName("prompt_tokens")] long PromptTokens,
        [property: JsonPropertyName("completion_tokens")] long CompletionTokens,
        [property: JsonPropertyName("llm_calls")] int LlmCalls);
}
