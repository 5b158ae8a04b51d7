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
        if (Variant.IsPerUser && MaxPartitions != 1)
        {
            throw new ArgumentException($"fusion variant 'single' has one vector per user: max_partitions must be 1, got {MaxPartitions}");
        }
    }
}
