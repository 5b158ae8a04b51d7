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
/// With the data set's user ids, <c>user</c> is the data set's own id (a string, as people read it); without, the dense index.
/// </summary>
public static class InterestTextsFile
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Writes the texts; with <paramref name="users"/> (the data set's id map) each record's user is the data set's own id.</summary>
    public static void Write(string path, InterestTexts texts, IdMap? users = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        using var writer = new StreamWriter(path);
        for (int i = 0; i < texts.All.Count; i++)
        {
            Partition p = texts.Partitions.All[i];
            InterestRecord r = texts.All[i];
            JsonElement user = users is null ? JsonSerializer.SerializeToElement(r.User) : JsonSerializer.SerializeToElement(users.External(r.User));
            writer.WriteLine(JsonSerializer.Serialize(new Line(user, r.Number, p.Start, p.End, r.Status.ToString().ToLowerInvariant(), r.Reason, r.Backend, r.Model,
                r.TemplateVersion, r.Summary, r.Shift, r.PromptTokens, r.CompletionTokens, r.LlmCalls), Options));
        }
    }

    /// <summary>Reads texts written for <paramref name="partitions"/>; every line must match its partition (user, number, start, end).</summary>
    /// <param name="path">The file.</param>
    /// <param name="partitions">The partitions the texts were written for.</param>
    /// <param name="users">The data set's id map, to match users written as the data set's own ids (dense indexes match without it).</param>
    /// <exception cref="DataFormatException">A line is malformed or belongs to another partition set; the message names file and line.</exception>
    public static InterestTexts Read(string path, PartitionSet partitions, IdMap? users = null)
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
            bool sameUser = l.User.ValueKind switch
            {
                JsonValueKind.Number => l.User.TryGetInt32(out int dense) && dense == p.User,
                JsonValueKind.String => users is not null && l.User.GetString() == users.External(p.User),
                _ => false,
            };
            if (!sameUser || l.Number != p.Number || l.Start != p.Start || l.End != p.End)
            {
                string expected = users is null ? p.User.ToString(System.Globalization.CultureInfo.InvariantCulture) : users.External(p.User);
                throw new DataFormatException(path, lineNo, $"record for user {l.User} partition {l.Number} [{l.Start}, {l.End}] but partition {i} is user {expected} partition {p.Number} [{p.Start}, {p.End}]: written for another data set or policy", text);
            }

            if (!Enum.TryParse(l.Status, ignoreCase: true, out InterestStatus status))
            {
                throw new DataFormatException(path, lineNo, $"unknown status '{l.Status}'", text);
            }

            records.Add(new InterestRecord(p.User, l.Number, l.Summary, l.Shift, status, l.Reason, l.Backend ?? "unknown", l.Model ?? "unknown", l.TemplateVersion ?? "unknown",
                l.PromptTokens, l.CompletionTokens, l.LlmCalls));
        }

        if (records.Count != partitions.Count)
        {
            throw new DataFormatException(path, 0, $"{records.Count} records for {partitions.Count} partitions");
        }

        return new InterestTexts(partitions, records);
    }

    private sealed record Line(
        [property: JsonPropertyName("user")] JsonElement User,
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
