using Liber.Core.Partitioning;
using Liber.Core.Streams;

namespace Liber.Models.Fusion;

/// <summary>
/// The hook through which LIBER's vectors enter training: the integrator implements it as
/// partitions (UBSP) -> interest texts (UIL, cached) -> encoder vectors (cached), and returns the table once,
/// before training. The trainer never computes vectors itself.
/// </summary>
public interface IPartitionVectorSource
{
    /// <summary>A short description for run records (policy, backend, encoder).</summary>
    string Name { get; }

    /// <summary>
    /// The vectors of the samples' data set: a per-partition table aligned with a <see cref="PartitionSet"/> built
    /// over <c>samples.Streams</c> (or, for the <c>single</c> variant, a per-user table).
    /// </summary>
    PartitionVectors Build(SampleSet samples);

    /// <summary>LLM and encoder accounting of the last <see cref="Build"/> (e.g. llm_calls, prompt_tokens, encoder_calls, cache_hits).</summary>
    IReadOnlyDictionary<string, long> Accounting { get; }
}

/// <summary>
/// Seeded random, fixed vectors for every partition of a count(k) partitioning: for throughput benchmarks and
/// plumbing tests only (they carry no information).
/// </summary>
/// <param name="K">Events per partition.</param>
/// <param name="Dimension">Vector width (384 like MiniLM by default).</param>
/// <param name="Seed">Seed of the vectors.</param>
public sealed record RandomPartitionVectorSource(int K = 20, int Dimension = 384, int Seed = 1) : IPartitionVectorSource
{
    /// <inheritdoc />
    public string Name => $"random(count k={K}, d={Dimension}, seed={Seed})";

    /// <inheritdoc />
    public IReadOnlyDictionary<string, long> Accounting { get; private set; } = new Dictionary<string, long>();

    /// <inheritdoc />
    public PartitionVectors Build(SampleSet samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var features = ItemFeatures.Build(samples.Streams.Dataset, new Cl100kTokenCounter());
        PartitionSet set = PartitionSet.Build(samples.Streams, new CountPolicy(K), new PartitionCaps(), features);
        var r = new Random(Seed);
        float[] Draw() => Enumerable.Range(0, set.Count * Dimension).Select(_ => (float)(r.NextDouble() - 0.5) * 0.1f).ToArray();
        Accounting = new Dictionary<string, long> { ["partitions"] = set.Count, ["llm_calls"] = 0, ["encoder_calls"] = 0 };
        return PartitionVectors.FromPartitions(set, Draw(), Draw(), Dimension);
    }
}
