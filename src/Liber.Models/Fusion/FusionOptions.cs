using System.Text.Json.Serialization;

namespace Liber.Models.Fusion;

/// <summary>
/// Options of LIBER's User Interest Fusion (UIF). Variants for ablation: <c>attention</c> (default, target-aware
/// attention over the visible partitions), <c>mean</c> (no target awareness), <c>last</c> (only the most recent
/// partition), <c>no-shift</c> (summary vectors only), <c>single</c> (one per-user vector, KAR-style baseline).
/// </summary>
public sealed record FusionOptions
{
    /// <summary>The fusion variant (default attention; a string in config.json).</summary>
    [JsonPropertyName("variant")] public FusionVariant Variant { get; init; } = FusionVariant.Attention;

    /// <summary>D: width of the frozen encoder vectors (384 for MiniLM).</summary>
    [JsonPropertyName("input_size")] public required int InputSize { get; init; }

    /// <summary>Width of the projected partition keys and of the recency embedding (default 32).</summary>
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 32;

    /// <summary>Width of the fused user-interest vector concatenated into the head (default 32).</summary>
    [JsonPropertyName("output_size")] public int OutputSize { get; init; } = 32;

    /// <summary>P: slots per sample (default 32; 1 for <c>single</c>).</summary>
    [JsonPropertyName("max_partitions")] public int MaxPartitions { get; init; } = 32;

    /// <summary>
    /// The layout of the <c>stats</c> encoder's vectors when the partitions are encoded by it (null otherwise; left out of
    /// config.json when null); the <c>stats-readout</c> variant reads its columns by position.
    /// </summary>
    [JsonPropertyName("stats_layout")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public StatsLayout? StatsLayout { get; init; }

    /// <summary>Whether the variant reads shift vectors.</summary>
    [JsonIgnore]
    public bool UsesShift => Variant.UsesShift;

    /// <summary>Validates the options, naming the offending key.</summary>
    public void Validate()
    {
        if (InputSize < 1 || HiddenSize < 1 || OutputSize < 1 || MaxPartitions < 1)
        {
            throw new ArgumentException($"fusion sizes must be >= 1 (input_size {InputSize}, hidden_size {HiddenSize}, output_size {OutputSize}, max_partitions {MaxPartitions})");
        }

        ArgumentNullException.ThrowIfNull(Variant, "variant");
        if (Variant.ReadsStatsVectors && (StatsLayout is null || StatsLayout.Width != InputSize))
        {
            throw new ArgumentException(StatsLayout is null
                ? "fusion variant 'stats-readout' reads the stats encoder's vectors by position: encode the partitions with --encoder stats"
                : $"fusion variant 'stats-readout': the stats layout ({StatsLayout.Categories} categories, {StatsLayout.Decades} decades) gives {StatsLayout.Width} columns, but the vectors have {InputSize}");
        }

        if (Variant.IsPerUser && MaxPartitions != 1)
        {
            throw new ArgumentException($"fusion variant 'single' has one vector per user: max_partitions must be 1, got {MaxPartitions}");
        }
    }
}

/// <summary>
/// The column layout of the <c>stats</c> partition encoder's vectors (Liber.Interests.Template.PartitionStatsEncoder) for C
/// categories and D decades: [0, C) category shares, [C, 2C) per-category liked rates, [2C, 2C + D) decade shares, then
/// mean rating, liked share, activity and pace, and [2C + D + 4, 3C + D + 4) the liked-and-category shares.
/// </summary>
/// <param name="Categories">C: the data set's categories, in the order of the model's category ids.</param>
/// <param name="Decades">D: the catalog's release decades.</param>
public sealed record StatsLayout(
    [property: JsonPropertyName("categories")] int Categories,
    [property: JsonPropertyName("decades")] int Decades)
{
    /// <summary>Columns of a vector: 3C + D + 4.</summary>
    [JsonIgnore]
    public int Width => (3 * Categories) + Decades + 4;

    /// <summary>Column of the partition's liked share.</summary>
    [JsonIgnore]
    public int LikedShare => (2 * Categories) + Decades + 1;

    /// <summary>First column of the liked-and-category shares.</summary>
    [JsonIgnore]
    public int LikedAndCategory => (2 * Categories) + Decades + 4;
}
