using System.Diagnostics;
using Liber.Knowledge.Cache;
using Liber.Knowledge.Encoders;

namespace Liber.Knowledge;

/// <summary>
/// The knowledge encoder of UIF: texts in, one unit-length vector per text out, with each distinct text encoded at most
/// once across runs.
/// </summary>
/// <remarks>
/// <para><see cref="EncodeAsync"/> (1) checks the texts (null is an error; empty follows <see cref="EmptyTextPolicy"/>),
/// (2) deduplicates them, (3) looks the distinct ones up in the <see cref="EmbeddingCache"/> by (encoder id, SHA-256),
/// (4) encodes the misses in batches of <see cref="KnowledgeEncoderOptions.BatchSize"/>, sorted by length so that a batch
/// pads little, through the encoder's pipeline (texts longer than the window are chunked and mean-pooled, never cut),
/// (5) stores each batch in the cache as it completes (an interrupted run keeps its work), and (6) returns the vectors in
/// input order with an <see cref="EncodeAccounting"/>.</para>
/// <para>Vectors do not depend on batch composition, cache state or order: the same text always gives the same vector
/// for one encoder id. An instance is not thread-safe.</para>
/// <example>
/// <code>
/// using var knowledge = KnowledgeEncoder.Create("minilm", cachePath: "embeddings.db");
/// EncodeResult r = await knowledge.EncodeAsync(summaries, progress: null, ct);
/// ReadOnlySpan&lt;float&gt; v = r.Vectors.Row(0);          // 384 floats, unit length
/// Console.WriteLine(r.Accounting.CacheHits);
/// </code>
/// </example>
/// </remarks>
public sealed class KnowledgeEncoder : IDisposable
{
    private readonly EncoderHandle encoder;
    private readonly EmbeddingCache cache;
    private readonly bool ownsEncoder;
    private readonly bool ownsCache;

    /// <summary>Uses <paramref name="encoder"/> and <paramref name="cache"/> (an in-memory one when null); disposes only what it created.</summary>
    public KnowledgeEncoder(EncoderHandle encoder, EmbeddingCache? cache = null, KnowledgeEncoderOptions? options = null)
        : this(encoder, cache ?? EmbeddingCache.InMemory(), options ?? new KnowledgeEncoderOptions(), ownsEncoder: false, ownsCache: cache is null)
    {
    }

    private KnowledgeEncoder(EncoderHandle encoder, EmbeddingCache cache, KnowledgeEncoderOptions options, bool ownsEncoder, bool ownsCache)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (options.BatchSize is < 1 or > 4096)
        {
            throw new ArgumentException($"batch size must be 1..4096, got {options.BatchSize}");
        }

        this.encoder = encoder;
        this.cache = cache;
        Options = options;
        this.ownsEncoder = ownsEncoder;
        this.ownsCache = ownsCache;
    }

    /// <summary>The options in force.</summary>
    public KnowledgeEncoderOptions Options { get; }

    /// <summary>The encoder in use.</summary>
    public EncoderHandle Encoder => encoder;

    /// <summary>The sum of every call's accounting so far.</summary>
    public EncodeAccounting Totals { get; private set; } = new();

    /// <summary>Creates encoder <paramref name="encoderName"/> (default options) over the cache file <paramref name="cachePath"/> (none: in memory); owns both.</summary>
    public static KnowledgeEncoder Create(string encoderName = KnowledgeEncoders.Default, string? cachePath = null, KnowledgeEncoderOptions? options = null) =>
        Create(KnowledgeEncoders.DefaultOptions(encoderName), cachePath, options);

    /// <summary>Creates the encoder of <paramref name="encoderOptions"/> over the cache file <paramref name="cachePath"/> (none: in memory); owns both.</summary>
    public static KnowledgeEncoder Create(EncoderOptions encoderOptions, string? cachePath = null, KnowledgeEncoderOptions? options = null)
    {
        var handle = KnowledgeEncoders.Create(encoderOptions);
        try
        {
            var store = cachePath is null ? EmbeddingCache.InMemory() : EmbeddingCache.Open(cachePath);
            return new KnowledgeEncoder(handle, store, options ?? new KnowledgeEncoderOptions(), ownsEncoder: true, ownsCache: true);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The vectors of <paramref name="texts"/>, row i for text i (see the type's remarks for the steps).</summary>
    /// <exception cref="ArgumentException">A text is null, or empty under <see cref="EmptyTextPolicy.Reject"/>; the message gives its index.</exception>
    /// <exception cref="EncoderException">The encoder failed or returned a malformed vector.</exception>
    public async Task<EncodeResult> EncodeAsync(IReadOnlyList<string> texts, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        cancellationToken.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        var info = await encoder.GetInfoAsync(cancellationToken).ConfigureAwait(false);

        // Distinct texts, in first-seen order; row[i] is the distinct slot of text i (-1: empty, zero vector).
        var slotOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var unique = new List<string>();
        var row = new int[texts.Count];
        int empty = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            string? text = texts[i] ?? throw new ArgumentException($"text {i} is null", nameof(texts));
            if (string.IsNullOrWhiteSpace(text))
            {
                if (Options.EmptyTexts == EmptyTextPolicy.Reject)
                {
                    throw new ArgumentException($"text {i} is empty or whitespace only; give it content or use {nameof(EmptyTextPolicy)}.{nameof(EmptyTextPolicy.ZeroVector)}", nameof(texts));
                }

                row[i] = -1;
                empty++;
                continue;
            }

            if (!slotOf.TryGetValue(text, out int slot))
            {
                slot = unique.Count;
                slotOf.Add(text, slot);
                unique.Add(text);
            }

            row[i] = slot;
        }

        var hashes = unique.Select(EmbeddingCache.HashText).ToArray();
        var vectors = new float[]?[unique.Count];
        int hits = cache.Lookup(info, hashes, vectors);
        progress?.Report(new EncodeProgress(hits, unique.Count, 0));

        // Misses, shortest first: similar lengths share a batch, so little compute goes to padding.
        int[] misses = [.. Enumerable.Range(0, unique.Count).Where(s => vectors[s] is null).OrderBy(s => unique[s].Length).ThenBy(s => s)];
        long chunks = 0, chunked = 0, batches = 0, calls = 0, tokens = 0;
        for (int start = 0; start < misses.Length; start += Options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int[] batch = misses[start..Math.Min(misses.Length, start + Options.BatchSize)];
            var generated = await encoder.Generator.GenerateAsync(batch.Select(s => unique[s]), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (generated.Count != batch.Length)
            {
                throw new EncoderException($"{info.Id}: {generated.Count} vectors for {batch.Length} texts");
            }

            var stored = new ReadOnlyMemory<float>[batch.Length];
            for (int b = 0; b < batch.Length; b++)
            {
                float[] v = generated[b].Vector.ToArray();
                Check(info, v, unique[batch[b]]);
                vectors[batch[b]] = v;
                stored[b] = v;
            }

            cache.Store(info, [.. batch.Select(s => hashes[s])], stored);
            batches++;
            chunks += EncoderCounts.Get(generated.Usage, EncoderCounts.Chunks);
            chunked += EncoderCounts.Get(generated.Usage, EncoderCounts.ChunkedTexts);
            calls += EncoderCounts.Get(generated.Usage, EncoderCounts.ModelCalls);
            tokens += generated.Usage?.InputTokenCount ?? 0;
            progress?.Report(new EncodeProgress(hits + start + batch.Length, unique.Count, start + batch.Length));
        }

        var data = new float[(long)texts.Count * info.Dimension];
        for (int i = 0; i < texts.Count; i++)
        {
            if (row[i] >= 0)
            {
                vectors[row[i]]!.CopyTo(data, (long)i * info.Dimension);
            }
        }

        var accounting = new EncodeAccounting
        {
            Encoder = info.Id,
            Texts = texts.Count,
            UniqueTexts = unique.Count,
            CacheHits = hits,
            Encoded = misses.Length,
            EmptyTexts = empty,
            Chunks = chunks,
            ChunkedTexts = chunked,
            Batches = batches,
            ModelCalls = calls,
            InputTokens = tokens,
            Dimension = info.Dimension,
            Seconds = Math.Round(clock.Elapsed.TotalSeconds, 4),
        };
        Totals = Totals.Plus(accounting);
        return new EncodeResult(new EmbeddingMatrix(data, texts.Count, info.Dimension), accounting);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (ownsCache)
        {
            cache.Dispose();
        }

        if (ownsEncoder)
        {
            encoder.Dispose();
        }
    }

    private static void Check(EncoderInfo info, float[] v, string text)
    {
        if (v.Length != info.Dimension)
        {
            throw new EncoderException($"{info.Id}: a {v.Length}-d vector for text '{Excerpt(text)}', expected {info.Dimension}");
        }

        double norm = 0;
        foreach (float x in v)
        {
            if (!float.IsFinite(x))
            {
                throw new EncoderException($"{info.Id}: a non-finite value in the vector of text '{Excerpt(text)}'");
            }

            norm += (double)x * x;
        }

        if (norm == 0)
        {
            throw new EncoderException($"{info.Id}: a zero vector for text '{Excerpt(text)}'");
        }
    }

    private static string Excerpt(string text) => text.Length <= 60 ? text : text[..60] + "...";
}
