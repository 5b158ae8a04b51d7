using System.Text.Json;
using System.Text.Json.Serialization;

namespace Liber.Models.Fusion;

/// <summary>How UIF weighs the visible partitions.</summary>
public enum FusionWeighting
{
    /// <summary>Target-aware attention: the target item queries the partitions' keys.</summary>
    Attention,

    /// <summary>The plain mean of the visible partitions (no target awareness).</summary>
    Mean,

    /// <summary>Only the most recent visible partition.</summary>
    Last,
}

/// <summary>
/// A UIF variant, parsed once at the edge (a flag, an experiment file, a checkpoint's config.json, where it stays a string), with its
/// capabilities: how it weighs the partitions, whether it reads shift vectors, whether it is the per-user baseline.
/// </summary>
[JsonConverter(typeof(FusionVariantJsonConverter))]
public sealed record FusionVariant
{
    private FusionVariant(string name, FusionWeighting weighting, bool usesShift, bool isPerUser, bool categoryQuery = false, bool gated = false, bool match = false, bool categoryMatch = false, bool statsReadout = false)
    {
        ReadsStatsVectors = statsReadout;
        MatchScores = match;
        CategoryMatchScores = categoryMatch;
        Name = name;
        Weighting = weighting;
        UsesShift = usesShift;
        IsPerUser = isPerUser;
        CategoryQuery = categoryQuery;
        IsGatedResidual = gated;
    }

    /// <summary>The default: target-aware attention over summaries and shifts (the paper's UIF).</summary>
    public static FusionVariant Attention { get; } = new("attention", FusionWeighting.Attention, usesShift: true, isPerUser: false);

    /// <summary>Ablation: the mean of the visible partitions.</summary>
    public static FusionVariant Mean { get; } = new("mean", FusionWeighting.Mean, usesShift: true, isPerUser: false);

    /// <summary>Ablation: the most recent partition only.</summary>
    public static FusionVariant Last { get; } = new("last", FusionWeighting.Last, usesShift: true, isPerUser: false);

    /// <summary>Ablation: attention over summary vectors only.</summary>
    public static FusionVariant NoShift { get; } = new("no-shift", FusionWeighting.Attention, usesShift: false, isPerUser: false);

    /// <summary>Baseline <c>single</c>: one vector per user (a summary of the history up to the train cut, KAR-style); P = 1.</summary>
    public static FusionVariant PerUser { get; } = new("single", FusionWeighting.Attention, usesShift: false, isPerUser: true);

    /// <summary>
    /// Attention whose query is the target's categories only (the category half of the backbone's target vector), not its
    /// id: a partition's taste for crime dramas speaks to every crime drama, also to one whose id embedding is barely trained.
    /// </summary>
    public static FusionVariant CategoryAttention { get; } = new("category-attention", FusionWeighting.Attention, usesShift: true, isPerUser: false, categoryQuery: true);

    /// <summary>
    /// Attention as the default, and the fused vector enters as a gated residual on the backbone's features
    /// (<c>x + sigmoid(W_g [x; f]) * W_f f</c>, the gate starting nearly closed) instead of being concatenated.
    /// </summary>
    public static FusionVariant Gated { get; } = new("gated", FusionWeighting.Attention, usesShift: true, isPerUser: false, gated: true);

    /// <summary>
    /// Attention as the default, plus explicit match scores of the target against each partition
    /// (<c>m_pk = (W_k s_p) . t</c>, k = 1..4, from the summary vector s_p and the target vector t), pooled three ways (by the
    /// attention weights, the mean over the visible partitions, the most recent one) and appended to the fused vector:
    /// "how much did this user like items like the target, per partition, lately and overall" as numbers the head reads
    /// directly rather than a product its MLP must learn to form.
    /// </summary>
    public static FusionVariant Match { get; } = new("match", FusionWeighting.Attention, usesShift: true, isPerUser: false, match: true);

    /// <summary>
    /// Attention as the default, plus per-category match features: learned linear read-outs of each partition's summary vector
    /// per category and head (<c>u_pkc = w_kc . s_p + b_kc</c>, "how much this partition liked category c"), averaged over the
    /// target's categories (<c>m_pk = mean_{c in cats(target)} u_pkc</c>) and pooled four ways: as <see cref="Match"/> (by the
    /// attention weights, the mean over the visible partitions, the most recent one) and their sum over the visible partitions
    /// divided by P, which keeps the amount as well as the share; a second set of read-outs gives amounts
    /// <c>a_pk &gt;= 0</c> and the event-weighted ratio <c>sum_p m_pk / (sum_p a_pk + 1)</c> with <c>log1p(sum_p a_pk)</c>. Unlike <see cref="Match"/> it never
    /// reads the target's id embedding: a partition's liking of westerns speaks to every western, also to one seen once.
    /// </summary>
    public static FusionVariant CategoryMatch { get; } = new("category-match", FusionWeighting.Attention, usesShift: true, isPerUser: false, categoryMatch: true);

    /// <summary>
    /// For the <c>stats</c> encoder only (not an LLM): attention as the default, plus six numbers read from the statistics vectors
    /// by position rather than learned: over the visible partitions, the user's liked rate of the target's categories (the
    /// liked-and-category shares over the category shares, summed over the partitions, smoothed toward the liked rate by a
    /// quarter partition), the same in the most recent partition, the liked rate overall and in the most recent partition
    /// (smoothed by one partition at 0.5), the share of the target's categories, and log1p(partitions) / 4; each also through
    /// periodic embeddings (PLR), as the backbones' numeric groups. What a gradient-boosted-trees model reads from the
    /// closed partitions (<c>--gbdt-partitions</c>), handed to the neural backbone exactly.
    /// </summary>
    public static FusionVariant StatsReadout { get; } = new("stats-readout", FusionWeighting.Attention, usesShift: true, isPerUser: false, statsReadout: true);

    /// <summary>Every variant, in the order shown in help.</summary>
    public static IReadOnlyList<FusionVariant> All { get; } = [Attention, Mean, Last, NoShift, PerUser, CategoryAttention, Gated, Match, CategoryMatch, StatsReadout];

    /// <summary>The variants' names.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(v => v.Name)];

    /// <summary>The name used in flags, files and reports.</summary>
    public string Name { get; }

    /// <summary>How the partitions are weighed.</summary>
    public FusionWeighting Weighting { get; }

    /// <summary>Whether shift vectors are read.</summary>
    public bool UsesShift { get; }

    /// <summary>Whether this is the per-user baseline (one vector per user, P = 1).</summary>
    public bool IsPerUser { get; }

    /// <summary>Whether the attention query reads only the target's categories (the second half of the target vector).</summary>
    public bool CategoryQuery { get; }

    /// <summary>Whether the fused vector enters the model as a gated residual on the backbone's features rather than concatenated.</summary>
    public bool IsGatedResidual { get; }

    /// <summary>Whether the fused vector carries the target-partition match scores (<see cref="Match"/>).</summary>
    public bool MatchScores { get; }

    /// <summary>Whether the fused vector carries the per-category match scores (<see cref="CategoryMatch"/>).</summary>
    public bool CategoryMatchScores { get; }

    /// <summary>Whether the fused vector carries the read-outs of the stats encoder's vectors (<see cref="StatsReadout"/>).</summary>
    public bool ReadsStatsVectors { get; }

    /// <summary>The variant of a name, or an <see cref="ArgumentException"/> naming the value and the known ones.</summary>
    public static FusionVariant Parse(string name) =>
        All.FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.Ordinal))
        ?? throw new ArgumentException($"unknown fusion variant '{name}'; known: {string.Join(", ", Names)}");

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>Writes a <see cref="FusionVariant"/> as its name and reads it back through <see cref="FusionVariant.Parse"/>.</summary>
public sealed class FusionVariantJsonConverter : JsonConverter<FusionVariant>
{
    /// <inheritdoc />
    public override FusionVariant Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String
            ? FusionVariant.Parse(reader.GetString()!)
            : throw new JsonException($"a fusion variant is a string, one of {string.Join(", ", FusionVariant.Names)}");

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, FusionVariant value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStringValue(value.Name);
    }
}
