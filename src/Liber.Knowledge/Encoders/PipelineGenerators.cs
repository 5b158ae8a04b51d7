using Liber.Knowledge.Chunking;
using Microsoft.Extensions.AI;

namespace Liber.Knowledge.Encoders;

/// <summary>Names of the counters that Liber's generators add to <see cref="UsageDetails.AdditionalCounts"/>.</summary>
public static class EncoderCounts
{
    /// <summary>Inputs sent to the model (chunks; equals texts when none was chunked).</summary>
    public const string Chunks = "liber.chunks";

    /// <summary>Texts that were longer than the window and were chunked.</summary>
    public const string ChunkedTexts = "liber.chunked_texts";

    /// <summary>Calls made to the model (requests for a remote encoder).</summary>
    public const string ModelCalls = "liber.model_calls";

    internal static long Get(UsageDetails? usage, string key) =>
        usage?.AdditionalCounts is { } counts && counts.TryGetValue(key, out long v) ? v : 0;

    internal static void Add(UsageDetails usage, string key, long value)
    {
        usage.AdditionalCounts ??= [];
        usage.AdditionalCounts[key] = Get(usage, key) + value;
    }
}

/// <summary>Splits a call into calls of at most <c>maxBatch</c> values (the model's or the server's limit) and joins the results in order.</summary>
public sealed class BatchingEmbeddingGenerator : DelegatingEmbeddingGenerator<string, Embedding<float>>
{
    private readonly int maxBatch;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public BatchingEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, int maxBatch)
        : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        this.maxBatch = maxBatch;
    }

    /// <inheritdoc/>
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] all = [.. values];
        var result = new GeneratedEmbeddings<Embedding<float>>(all.Length) { Usage = new UsageDetails() };
        for (int start = 0; start < all.Length; start += maxBatch)
        {
            string[] batch = all[start..Math.Min(all.Length, start + maxBatch)];
            var part = await base.GenerateAsync(batch, options, cancellationToken).ConfigureAwait(false);
            if (part.Count != batch.Length)
            {
                throw new EncoderException($"the encoder returned {part.Count} embeddings for {batch.Length} inputs");
            }

            result.AddRange(part);
            if (part.Usage is { } usage)
            {
                result.Usage.Add(usage);
            }

            EncoderCounts.Add(result.Usage, EncoderCounts.ModelCalls, 1);
        }

        return result;
    }
}

/// <summary>
/// Encodes a text longer than the encoder's window as the mean of its chunks' vectors (<see cref="TextChunker"/>),
/// re-normalised to unit length: nothing is cut. Texts that fit are passed through unchanged.
/// </summary>
public sealed class ChunkingEmbeddingGenerator : DelegatingEmbeddingGenerator<string, Embedding<float>>
{
    private readonly IEncoderTokenizer tokenizer;
    private readonly int windowTokens;

    /// <summary>Wraps <paramref name="inner"/>, whose window is <paramref name="windowTokens"/> tokens of <paramref name="tokenizer"/>.</summary>
    public ChunkingEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, IEncoderTokenizer tokenizer, int windowTokens)
        : base(inner)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        this.tokenizer = tokenizer;
        this.windowTokens = windowTokens;
    }

    /// <inheritdoc/>
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] texts = [.. values];
        var pieces = new List<string>(texts.Length);
        var firstPiece = new int[texts.Length + 1];
        int chunked = 0;
        for (int t = 0; t < texts.Length; t++)
        {
            firstPiece[t] = pieces.Count;
            var chunks = TextChunker.Split(texts[t], tokenizer, windowTokens);
            chunked += chunks.Count > 1 ? 1 : 0;
            pieces.AddRange(chunks);
        }

        firstPiece[texts.Length] = pieces.Count;
        var encoded = await base.GenerateAsync(pieces, options, cancellationToken).ConfigureAwait(false);
        if (encoded.Count != pieces.Count)
        {
            throw new EncoderException($"the encoder returned {encoded.Count} embeddings for {pieces.Count} inputs");
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Length) { Usage = encoded.Usage ?? new UsageDetails() };
        for (int t = 0; t < texts.Length; t++)
        {
            int from = firstPiece[t], to = firstPiece[t + 1];
            result.Add(to - from == 1 ? encoded[from] : new Embedding<float>(MeanNormalized(encoded, from, to)) { ModelId = encoded[from].ModelId });
        }

        EncoderCounts.Add(result.Usage, EncoderCounts.Chunks, pieces.Count);
        EncoderCounts.Add(result.Usage, EncoderCounts.ChunkedTexts, chunked);
        return result;
    }

    /// <summary>The mean of rows <paramref name="from"/>..<paramref name="to"/> scaled to unit length (a zero mean stays zero).</summary>
    internal static float[] MeanNormalized(IList<Embedding<float>> rows, int from, int to)
    {
        int dim = rows[from].Vector.Length;
        var sum = new double[dim];
        for (int r = from; r < to; r++)
        {
            var v = rows[r].Vector.Span;
            if (v.Length != dim)
            {
                throw new EncoderException($"the encoder returned vectors of {dim} and {v.Length} dimensions for chunks of one text");
            }

            for (int i = 0; i < dim; i++)
            {
                sum[i] += v[i];
            }
        }

        double norm = Math.Sqrt(sum.Sum(x => x * x));
        double scale = norm > 0 ? 1 / norm : 0;
        var mean = new float[dim];
        for (int i = 0; i < dim; i++)
        {
            mean[i] = (float)(sum[i] * scale);
        }

        return mean;
    }
}
