using System.CommandLine;
using System.Text.Json;
using Liber.Core.Data;
using Liber.Knowledge;
using Liber.Knowledge.Cache;
using Liber.Knowledge.Encoders;
using Liber.Pipeline;

namespace Liber.Cli.Commands;

/// <summary><c>liber encode</c>: texts to vectors with a knowledge encoder and the embedding cache, printing the accounting.</summary>
public static class EncodeCommand
{
    /// <summary>Creates the <c>encode</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("encode", "encode texts (one per line of a .txt, or JSON strings / {\"text\": ...} objects per line of a .jsonl) into unit vectors");
        var texts = new Option<string>("--texts") { Description = "input file: .txt (one text per line) or .jsonl", Required = true };
        var encoder = new Option<string>("--encoder") { Description = "encoder: " + string.Join(", ", KnowledgeEncoders.Names), DefaultValueFactory = _ => KnowledgeEncoders.Default };
        encoder.AcceptOnlyFromAmong([.. KnowledgeEncoders.Names]);
        var endpoint = new Option<string?>("--endpoint") { Description = "openai: base URL up to /v1 (default the OpenAI API); key from LIBER_LLM_API_KEY or OPENAI_API_KEY" };
        var model = new Option<string?>("--model") { Description = "openai: model name (default text-embedding-3-small)" };
        var retries = new Option<int>("--retries") { Description = "openai: retries on 429/5xx and network errors, with back-off", DefaultValueFactory = _ => 3 };
        var dimensions = new Option<int?>("--dimensions") { Description = "openai: requested dimensions (default: the model's, found by one probe call)" };
        var cache = new Option<string?>("--cache") { Description = "embedding cache file (SQLite; created if absent); default: none, nothing persisted" };
        var output = new Option<string?>("--out") { Description = "write vectors: 'LVEC', int32 version 1, int32 rows, int32 dim, then float32 rows, all little-endian" };
        var batch = new Option<int>("--batch-size") { Description = "texts per encoder call", DefaultValueFactory = _ => 64 };
        var threads = new Option<int>("--threads") { Description = "local encoders: ONNX Runtime threads (0: automatic)", DefaultValueFactory = _ => 0 };
        var window = new Option<int?>("--window") { Description = "window in encoder tokens (default: minilm 256, arctic-xs 512, openai 8191); longer texts are chunked" };
        var empty = new Option<string>("--empty") { Description = "empty lines/texts: reject (default) or zero (zero vector)", DefaultValueFactory = _ => "reject" };
        empty.AcceptOnlyFromAmong("reject", "zero");
        var textField = new Option<string>("--text-field") { Description = ".jsonl objects: the property holding the text (e.g. summary or shift of `liber learn --out` records; a null value skips the record, counted)", DefaultValueFactory = _ => "text" };
        var groupField = new Option<string?>("--group-field") { Description = ".jsonl objects: the property naming each text's group (e.g. user); prints the mean cosine of consecutive texts of a group, of two texts of the same group and of two texts of different groups" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { texts, encoder, endpoint, model, dimensions, retries, cache, output, batch, threads, window, empty, textField, groupField, json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction((r, ct) => RunAsync(io, new Request(
            r.GetValue(texts)!,
            r.GetValue(encoder) ?? KnowledgeEncoders.Default,
            r.GetValue(endpoint),
            r.GetValue(model),
            r.GetValue(dimensions),
            r.GetValue(retries),
            r.GetValue(cache),
            r.GetValue(output),
            r.GetValue(batch),
            r.GetValue(threads),
            r.GetValue(window),
            r.GetValue(empty) == "zero" ? EmptyTextPolicy.ZeroVector : EmptyTextPolicy.Reject,
            r.GetValue(textField) ?? "text",
            r.GetValue(groupField),
            r.GetValue(json)), ct));
        return cmd;
    }

    /// <summary>Reads texts: a .txt gives one text per line (every line counts); a .jsonl gives one per non-blank line, a JSON string or an object with a string "text".</summary>
    /// <exception cref="DataFormatException">A line is not valid JSON of that shape, or (under <paramref name="rejectEmpty"/>) a text is empty; names file and line.</exception>
    public static List<string> ReadTexts(string path, bool rejectEmpty) => ReadRecords(path, rejectEmpty).Texts;

    /// <summary>
    /// Reads texts and, with <paramref name="groupField"/>, their groups. A .txt gives one text per line (every line counts;
    /// no fields). A .jsonl gives one per non-blank line: a JSON string (only with the default field and no group), or an
    /// object whose <paramref name="textField"/> is a string (a null skips the record and is counted) and whose
    /// <paramref name="groupField"/> is a string or a number.
    /// </summary>
    /// <exception cref="DataFormatException">A line is not valid JSON of that shape, or (under <paramref name="rejectEmpty"/>) a text is empty; names file and line.</exception>
    public static TextRecords ReadRecords(string path, bool rejectEmpty, string textField = "text", string? groupField = null)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not ".txt" and not ".jsonl")
        {
            throw new ArgumentException($"--texts {path}: expected a .txt or .jsonl file");
        }

        if (ext == ".txt" && (textField != "text" || groupField is not null))
        {
            throw new ArgumentException($"--texts {path}: --text-field and --group-field need a .jsonl file of objects");
        }

        var texts = new List<string>();
        List<string>? groups = groupField is null ? null : [];
        int skipped = 0;
        long line = 0;
        foreach (string raw in File.ReadLines(path))
        {
            line++;
            string? text;
            if (ext == ".txt")
            {
                text = raw;
            }
            else if (string.IsNullOrWhiteSpace(raw))
            {
                continue;
            }
            else
            {
                (text, string? group) = ParseJsonLine(path, line, raw, textField, groupField);
                if (text is null)
                {
                    skipped++;
                    continue;
                }

                groups?.Add(group!);
            }

            if (rejectEmpty && string.IsNullOrWhiteSpace(text))
            {
                throw new DataFormatException(path, line, "empty text (remove the line, or pass --empty zero to give it a zero vector)");
            }

            texts.Add(text);
        }

        return new TextRecords(texts, groups, skipped);
    }

    private static (string? Text, string? Group) ParseJsonLine(string path, long line, string raw, string textField, string? groupField)
    {
        try
        {
            using var doc = JsonDocument.Parse(raw);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.String && textField == "text" && groupField is null)
            {
                return (root.GetString()!, null);
            }

            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(textField, out var t) || t.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                throw new DataFormatException(path, line, groupField is null && textField == "text"
                    ? "expected a JSON string or an object with a string \"text\""
                    : $"expected an object with a string (or null) \"{textField}\"", raw);
            }

            string? group = null;
            if (groupField is not null)
            {
                if (!root.TryGetProperty(groupField, out var g) || g.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
                {
                    throw new DataFormatException(path, line, $"expected a string or number \"{groupField}\" (--group-field)", raw);
                }

                group = g.ValueKind == JsonValueKind.String ? g.GetString()! : g.GetRawText();
            }

            return (t.ValueKind == JsonValueKind.Null ? null : t.GetString()!, group);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, line, $"not valid JSON ({e.Message})", raw);
        }
    }

    private static async Task<int> RunAsync(CommandIo io, Request q, CancellationToken ct)
    {
        Validate(q);
        if (!File.Exists(q.Texts))
        {
            throw new FileNotFoundException($"--texts {q.Texts}: no such file", q.Texts);
        }

        if (q.Encoder != KnowledgeEncoders.OpenAI && ((q.Endpoint ?? q.Model) is not null || q.Dimensions is not null))
        {
            throw new ArgumentException("--endpoint, --model and --dimensions apply to --encoder openai only");
        }

        TextRecords records = ReadRecords(q.Texts, q.Empty == EmptyTextPolicy.Reject, q.TextField, q.GroupField);
        List<string> input = records.Texts;
        EncoderOptions options = q.Encoder switch
        {
            KnowledgeEncoders.MiniLm => new MiniLmOptions { Threads = q.Threads, WindowTokens = q.Window },
            KnowledgeEncoders.ArcticXs => new ArcticXsOptions { Threads = q.Threads, WindowTokens = q.Window },
            _ => new OpenAIEncoderOptions
            {
                Endpoint = q.Endpoint is null ? OpenAIEncoderOptions.OpenAIEndpoint : ParseEndpoint(q.Endpoint),
                Model = q.Model ?? new OpenAIEncoderOptions().Model,
                Dimensions = q.Dimensions,
                MaxRetries = q.Retries,
                WindowTokens = q.Window,
            },
        };
        try
        {
            using var knowledge = KnowledgeEncoder.Create(options, q.Cache, new KnowledgeEncoderOptions { BatchSize = q.BatchSize, EmptyTexts = q.Empty });
            var result = await knowledge.EncodeAsync(input, q.Json ? null : new ThrottledProgress(io.Error), ct).ConfigureAwait(false);
            if (q.Out is not null)
            {
                using var file = File.Create(q.Out);
                result.Vectors.Write(file);
            }

            var a = result.Accounting;
            TextSimilarity? similarity = records.Groups is null ? null : TextSimilarity.Of(result.Vectors, records.Groups);
            if (q.Json)
            {
                string text = similarity is null && q.TextField == "text"
                    ? JsonSerializer.Serialize(a, DataCommand.Json)
                    : JsonSerializer.Serialize(new { accounting = a, skipped_null = records.SkippedNull, similarity = similarity is { } t ? Json(t) : null }, DataCommand.Json);
                await io.Output.WriteLineAsync(text).ConfigureAwait(false);
            }
            else
            {
                await io.Output.WriteLineAsync($"encoder {a.Encoder}").ConfigureAwait(false);
                await io.Output.WriteLineAsync($"texts {a.Texts:N0}, unique {a.UniqueTexts:N0}, cache hits {a.CacheHits:N0}, encoded {a.Encoded:N0} ({a.Chunks:N0} model inputs, {a.ChunkedTexts:N0} texts chunked), dimension {a.Dimension}").ConfigureAwait(false);
                if (records.SkippedNull > 0)
                {
                    await io.Output.WriteLineAsync($"{records.SkippedNull:N0} records with a null \"{q.TextField}\" skipped").ConfigureAwait(false);
                }

                await io.Output.WriteLineAsync($"{a.Seconds:F2} s, {a.TextsPerSecond:N1} texts/s{(q.Out is null ? string.Empty : $"; vectors written to {q.Out}")}").ConfigureAwait(false);
                if (similarity is { } t)
                {
                    await io.Output.WriteLineAsync(FormattableString.Invariant(
                        $"mean cosine over {t.Groups:N0} groups ({(t.Sampled ? "sampled pairs" : "all pairs")}): consecutive texts of a group {t.Consecutive:F3} ({t.ConsecutivePairs:N0} pairs), same group {t.SameGroup:F3} ({t.SameGroupPairs:N0}), different groups {t.OtherGroups:F3} ({t.OtherGroupPairs:N0})")).ConfigureAwait(false);
                }
            }

            return LiberCommand.Ok;
        }
        catch (Exception e) when (e is EncoderException or InvalidDataException)
        {
            await io.Error.WriteLineAsync($"liber: {e.Message}").ConfigureAwait(false);
            return LiberCommand.UserError;
        }
    }

    /// <summary>The similarity for --json: means without pairs are null (JSON has no NaN).</summary>
    private static object Json(TextSimilarity t)
    {
        static double? Finite(double x) => double.IsNaN(x) ? null : x;
        return new
        {
            groups = t.Groups,
            sampled = t.Sampled,
            consecutive = Finite(t.Consecutive),
            consecutive_pairs = t.ConsecutivePairs,
            same_group = Finite(t.SameGroup),
            same_group_pairs = t.SameGroupPairs,
            other_groups = Finite(t.OtherGroups),
            other_group_pairs = t.OtherGroupPairs,
        };
    }

    private static Uri ParseEndpoint(string value) => LlmBackend.ParseEndpoint(value);

    /// <summary>Checks the numeric flags before any file is read or model loaded.</summary>
    private static void Validate(Request q)
    {
        static void AtLeast(string flag, long value, long min)
        {
            if (value < min)
            {
                throw new ArgumentException($"{flag} {value}: out of range; it must be >= {min}");
            }
        }

        AtLeast("--batch-size", q.BatchSize, 1);
        AtLeast("--threads", q.Threads, 0);
        AtLeast("--retries", q.Retries, 0);
        if (q.Window is int w)
        {
            AtLeast("--window", w, 1);
        }

        if (q.Dimensions is int d)
        {
            AtLeast("--dimensions", d, 1);
        }

        if (q.Endpoint is string e)
        {
            ParseEndpoint(e);
        }
    }

    /// <summary>Writes "resolved n/N" to stderr at most every 5 seconds (and at the end), for long runs.</summary>
    private sealed class ThrottledProgress(TextWriter error) : IProgress<EncodeProgress>
    {
        private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
        private TimeSpan last = TimeSpan.Zero;

        public void Report(EncodeProgress value)
        {
            if (value.Done == value.Total || clock.Elapsed - last >= TimeSpan.FromSeconds(5))
            {
                last = clock.Elapsed;
                error.WriteLine($"encode: {value.Done:N0}/{value.Total:N0} distinct texts resolved ({value.Encoded:N0} encoded) after {clock.Elapsed.TotalSeconds:F0} s");
            }
        }
    }

    private sealed record Request(string Texts, string Encoder, string? Endpoint, string? Model, int? Dimensions, int Retries, string? Cache, string? Out, int BatchSize, int Threads, int? Window, EmptyTextPolicy Empty, string TextField, string? GroupField, bool Json);
}

/// <summary>Texts read by <c>liber encode</c>, their groups (with <c>--group-field</c>) and the records skipped for a null text.</summary>
/// <param name="Texts">The texts, in file order.</param>
/// <param name="Groups">The group of each text, or null without <c>--group-field</c>.</param>
/// <param name="SkippedNull">Records whose text field was null.</param>
public sealed record TextRecords(List<string> Texts, List<string>? Groups, int SkippedNull);
