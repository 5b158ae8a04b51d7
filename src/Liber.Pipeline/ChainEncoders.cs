using Liber.Knowledge.Encoders;

namespace Liber.Pipeline;

/// <summary>
/// The encoders of LIBER's chain: the knowledge encoders of the interest texts (<see cref="KnowledgeEncoders"/>) and the
/// <c>stats</c> encoder, which turns each partition's statistics into a fixed vector with no text and no LLM
/// (<see cref="Liber.Interests.Template.PartitionStatsEncoder"/>).
/// </summary>
public static class ChainEncoders
{
    /// <summary>The statistics encoder: not an LLM, no text (offline training and evaluation only).</summary>
    public const string Stats = "stats";

    /// <summary>Every encoder name the chain accepts, the default first.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. KnowledgeEncoders.Names, Stats];

    /// <summary>True for an encoder of texts (the paper's path: texts, then a sentence encoder).</summary>
    public static bool IsText(string name) => name != Stats;

    /// <summary>The encoder as reports show it; the stats encoder is labelled as not LLM.</summary>
    public static string Describe(string name) => name == Stats ? "stats vector (not LLM, no text)" : name;
}
