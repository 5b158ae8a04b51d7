using System.Text.Json.Serialization;

namespace Liber.Knowledge;

/// <summary>What one <see cref="KnowledgeEncoder.EncodeAsync"/> call (or a sum of calls) did.</summary>
public sealed record EncodeAccounting
{
    /// <summary>Encoder id (<see cref="EncoderInfo.Id"/>).</summary>
    [JsonPropertyName("encoder")] public string Encoder { get; init; } = string.Empty;

    /// <summary>Texts asked for.</summary>
    [JsonPropertyName("texts")] public long Texts { get; init; }

    /// <summary>Distinct texts among them (ordinal comparison).</summary>
    [JsonPropertyName("unique_texts")] public long UniqueTexts { get; init; }

    /// <summary>Distinct texts found in the cache.</summary>
    [JsonPropertyName("cache_hits")] public long CacheHits { get; init; }

    /// <summary>Distinct texts encoded (cache misses), now in the cache.</summary>
    [JsonPropertyName("encoded")] public long Encoded { get; init; }

    /// <summary>Empty texts given a zero vector (<see cref="EmptyTextPolicy.ZeroVector"/>); never encoded nor cached.</summary>
    [JsonPropertyName("empty_texts")] public long EmptyTexts { get; init; }

    /// <summary>Inputs sent to the model: encoded texts plus the extra chunks of long ones.</summary>
    [JsonPropertyName("chunks")] public long Chunks { get; init; }

    /// <summary>Encoded texts that were longer than the window and chunked.</summary>
    [JsonPropertyName("chunked_texts")] public long ChunkedTexts { get; init; }

    /// <summary>Batches sent to the generator (calls of <see cref="Microsoft.Extensions.AI.IEmbeddingGenerator{TInput, TEmbedding}.GenerateAsync"/>).</summary>
    [JsonPropertyName("batches")] public long Batches { get; init; }

    /// <summary>Calls made to the model itself (requests, for a remote encoder).</summary>
    [JsonPropertyName("model_calls")] public long ModelCalls { get; init; }

    /// <summary>Input tokens, where the encoder reports them (remote encoders); else 0.</summary>
    [JsonPropertyName("input_tokens")] public long InputTokens { get; init; }

    /// <summary>Vector length.</summary>
    [JsonPropertyName("dimension")] public int Dimension { get; init; }

    /// <summary>Wall time, seconds.</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; init; }

    /// <summary><see cref="Texts"/> per second of wall time.</summary>
    [JsonPropertyName("texts_per_second")] public double TextsPerSecond => Seconds > 0 ? Math.Round(Texts / Seconds, 2) : 0;

    /// <summary>The sum of two accountings (for run totals).</summary>
    public EncodeAccounting Plus(EncodeAccounting other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new()
        {
            Encoder = Encoder.Length > 0 ? Encoder : other.Encoder,
            Texts = Texts + other.Texts,
            UniqueTexts = UniqueTexts + other.UniqueTexts,
            CacheHits = CacheHits + other.CacheHits,
            Encoded = Encoded + other.Encoded,
            EmptyTexts = EmptyTexts + other.EmptyTexts,
            Chunks = Chunks + other.Chunks,
            ChunkedTexts = ChunkedTexts + other.ChunkedTexts,
            Batches = Batches + other.Batches,
            ModelCalls = ModelCalls + other.ModelCalls,
            InputTokens = InputTokens + other.InputTokens,
            Dimension = Math.Max(Dimension, other.Dimension),
            Seconds = Seconds + other.Seconds,
        };
    }
}

/// <summary>Progress of one call: distinct texts resolved (from the cache or encoded) out of those to resolve.</summary>
/// <param name="Done">Distinct texts resolved so far.</param>
/// <param name="Total">Distinct texts in the call.</param>
/// <param name="Encoded">Of <paramref name="Done"/>, those encoded (not from the cache).</param>
public readonly record struct EncodeProgress(long Done, long Total, long Encoded);

/// <summary>What to do with an empty or whitespace-only text.</summary>
public enum EmptyTextPolicy
{
    /// <summary>Throw an <see cref="ArgumentException"/> naming its index (default: an empty interest text is an upstream bug).</summary>
    Reject,

    /// <summary>Return a zero vector for it, neither encoded nor cached (counted in <see cref="EncodeAccounting.EmptyTexts"/>).</summary>
    ZeroVector,
}

/// <summary>Options of <see cref="KnowledgeEncoder"/>.</summary>
public sealed record KnowledgeEncoderOptions
{
    /// <summary>Texts per generator call (each committed to the cache before the next); default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Empty or whitespace-only texts; default <see cref="EmptyTextPolicy.Reject"/>.</summary>
    public EmptyTextPolicy EmptyTexts { get; init; } = EmptyTextPolicy.Reject;
}

/// <summary>The vectors of one call, row i for text i, and its accounting.</summary>
/// <param name="Vectors">One row per input text, in input order.</param>
/// <param name="Accounting">What the call did.</param>
public sealed record EncodeResult(EmbeddingMatrix Vectors, EncodeAccounting Accounting);
