using System.CommandLine;
using System.Text.Json;
using Liber.Core.Data;
using Liber.Knowledge;
using Liber.Knowledge.Cache;
using Liber.Knowledge.Encoders;

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
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { texts, encoder, endpoint, model, dimensions, retries, cache, output, batch, threads, window, empty, json })
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
            r.GetValue(json)), ct));
        return cmd;
    }

    /// <summary>Reads texts: a .txt gives one text per line (every line counts); a .jsonl gives one per non-blank line, a JSON string or an object with a string "text".</summary>
    /// <exception cref="DataFormatException">A line is not valid JSON of that shape, or (under <paramref name="rejectEmpty"/>) a text is empty; names file and line.</exception>
    public static List<string> ReadTexts(string path, bool rejectEmpty)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not ".txt" and not ".jsonl")
        {
            throw new ArgumentException($"--texts {path}: expected a .txt or .jsonl file");
        }

        var result = new List<string>();
        long line = 0;
        foreach (string raw in File.ReadLines(path))
        {
            line++;
            string text;
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
                text = ParseJsonLine(path, line, raw);
            }

            if (rejectEmpty && string.IsNullOrWhiteSpace(text))
            {
                throw new DataFormatException(path, line, "empty text (remove the line, or pass --empty zero to give it a zero vector)");
            }

            result.Add(text);
        }

        return result;
    }

    private static string ParseJsonLine(string path, long line, string raw)
    {
        try
        {
            using var doc = JsonDocument.Parse(raw);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.String)
            {
                return root.GetString()!;
            }

            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                return t.GetString()!;
            }

            throw new DataFormatException(path, line, "expected a JSON string or an object with a string \"text\"", raw);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, line, $"not valid JSON ({e.Message})", raw);
        }
    }

    private static async Task<int> RunAsync(CommandIo io, Request q, CancellationToken ct)
    {
        if (!File.Exists(q.Texts))
        {
            throw new FileNotFoundException($"--texts {q.Texts}: no such file", q.Texts);
        }

        if (q.Encoder != KnowledgeEncoders.OpenAI && ((q.Endpoint ?? q.Model) is not null || q.Dimensions is not null))
        {
            throw new ArgumentException("--endpoint, --model and --dimensions apply to --encoder openai only");
        }

        var input = ReadTexts(q.Texts, q.Empty == EmptyTextPolicy.Reject);
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
            if (q.Json)
            {
                await io.Output.WriteLineAsync(JsonSerializer.Serialize(a, DataCommand.Json)).ConfigureAwait(false);
            }
            else
            {
                await io.Output.WriteLineAsync($"encoder {a.Encoder}").ConfigureAwait(false);
                await io.Output.WriteLineAsync($"texts {a.Texts:N0}, unique {a.UniqueTexts:N0}, cache hits {a.CacheHits:N0}, encoded {a.Encoded:N0} ({a.Chunks:N0} model inputs, {a.ChunkedTexts:N0} texts chunked), dimension {a.Dimension}").ConfigureAwait(false);
                await io.Output.WriteLineAsync($"{a.Seconds:F2} s, {a.TextsPerSecond:N1} texts/s{(q.Out is null ? string.Empty : $"; vectors written to {q.Out}")}").ConfigureAwait(false);
            }

            return LiberCommand.Ok;
        }
        catch (Exception e) when (e is EncoderException or InvalidDataException)
        {
            await io.Error.WriteLineAsync($"liber: {e.Message}").ConfigureAwait(false);
            return LiberCommand.UserError;
        }
    }

    private static Uri ParseEndpoint(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) ? uri : throw new ArgumentException($"--endpoint '{value}' is not an absolute URL such as http://127.0.0.1:8080/v1");

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

    private sealed record Request(string Texts, string Encoder, string? Endpoint, string? Model, int? Dimensions, int Retries, string? Cache, string? Out, int BatchSize, int Threads, int? Window, EmptyTextPolicy Empty, bool Json);
}
