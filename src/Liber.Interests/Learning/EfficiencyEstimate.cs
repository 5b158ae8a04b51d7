using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Interests.Prompts;

namespace Liber.Interests.Learning;

/// <summary>
/// Totals of <see cref="LlmCostModel"/>: calls and prompt tokens that LIBER needs for a data set and partition set (incremental: one summary, and
/// one shift in two-call mode, per closed partition) against two naive strategies: (a) re-summarising the
/// whole history at every new event and (b) one summary per user over the whole history. Histories longer
/// than the context window are truncated to it in both naive strategies, as a real server would require.
/// Token counts use cl100k_base on the rendered prompt parts; the previous summary carried by a cascade
/// prompt is assumed to be <see cref="SummaryTokens"/> long. No LLM is called.
/// </summary>
public sealed record EfficiencyEstimate
{
    /// <summary>Closed partitions.</summary>
    public long Partitions { get; init; }

    /// <summary>LIBER calls in the chosen mode.</summary>
    public long LiberCalls { get; init; }

    /// <summary>LIBER prompt tokens in the chosen mode.</summary>
    public long LiberPromptTokens { get; init; }

    /// <summary>(a) calls: one per event.</summary>
    public long NaivePerEventCalls { get; init; }

    /// <summary>(a) prompt tokens: the whole history so far at every event, truncated to the window.</summary>
    public long NaivePerEventPromptTokens { get; init; }

    /// <summary>(b) calls: one per user with events.</summary>
    public long PerUserCalls { get; init; }

    /// <summary>(b) prompt tokens: each user's whole history, truncated to the window.</summary>
    public long PerUserPromptTokens { get; init; }

    /// <summary>Context window assumed (tokens).</summary>
    public int ContextWindow { get; init; }

    /// <summary>Assumed length of a summary carried into a cascade prompt (tokens).</summary>
    public int SummaryTokens { get; init; }

    /// <summary>Computes the estimate (the totals of <see cref="LlmCostModel"/>).</summary>
    public static EfficiencyEstimate Compute(UserStreams streams, PartitionSet partitions, PromptRenderer renderer, ITokenCounter tokens, LearnMode mode,
        int contextWindow = 8192, int summaryTokens = LlmCostModel.SummaryTokens, int maxOutputTokens = 400) =>
        LlmCostModel.Compute(streams, partitions, renderer, tokens, mode, contextWindow, summaryTokens, maxOutputTokens).Totals;
}
