using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Interests.Prompts;

namespace Liber.Interests.Learning;

/// <summary>
/// Calls and prompt tokens that LIBER needs for a data set and partition set (incremental: one summary, and
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

    /// <summary>Computes the estimate.</summary>
    public static EfficiencyEstimate Compute(UserStreams streams, PartitionSet partitions, PromptRenderer renderer, ITokenCounter tokens, LearnMode mode,
        int contextWindow = 8192, int summaryTokens = 200, int maxOutputTokens = 400)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextWindow, 512);
        var catalog = streams.Dataset.Catalog;
        var itemTokens = new int[catalog.Count];
        Parallel.For(0, catalog.Count, i => itemTokens[i] = tokens.Count(renderer.ItemLine(catalog[i], 5.0f)) + 1);
        int user0 = Enumerable.Range(0, streams.UserCount).FirstOrDefault(u => streams.Length(u) > 0, -1);
        if (user0 < 0)
        {
            return new EfficiencyEstimate { ContextWindow = contextWindow, SummaryTokens = summaryTokens };
        }

        // Fixed prompt parts: a one-event prompt minus that event's line.
        int line0 = itemTokens[streams.Items[streams.Offsets[user0]]];
        int Overhead(ChatPrompt p, int lines) => tokens.Count(p.System) + tokens.Count(p.User) - lines;
        int ovSummary = Overhead(renderer.Summary(user0, 0, 0, null), line0);
        int ovOneCall = Overhead(renderer.OneCall(user0, 0, 0, null, isFirst: false), line0);
        int ovShift = Overhead(renderer.Shift(user0, 0, 0, string.Empty, string.Empty), 0);

        long liberCalls = 0, liberTokens = 0, perEventTokens = 0, perUserTokens = 0, users = 0;
        long budget = Math.Max(1, contextWindow - ovSummary - maxOutputTokens);
        ReadOnlySpan<int> items = streams.Items;
        for (int u = 0; u < streams.UserCount; u++)
        {
            int row0 = streams.Offsets[u], n = streams.Length(u);
            if (n == 0)
            {
                continue;
            }

            users++;
            long prefix = 0;
            for (int i = 0; i < n; i++)
            {
                prefix += itemTokens[items[row0 + i]];
                perEventTokens += ovSummary + Math.Min(prefix, budget);
            }

            perUserTokens += ovSummary + Math.Min(prefix, budget);
            ReadOnlySpan<Partition> ps = u < partitions.UserCount ? partitions.Of(u) : [];
            for (int k = 0; k < ps.Length; k++)
            {
                long lines = 0;
                for (int i = ps[k].Start; i <= ps[k].End; i++)
                {
                    lines += itemTokens[items[row0 + i]];
                }

                long carried = k > 0 ? summaryTokens : 0;
                if (mode == LearnMode.OneCall)
                {
                    liberCalls++;
                    liberTokens += ovOneCall + lines + carried;
                }
                else
                {
                    liberCalls += k > 0 ? 2 : 1;
                    liberTokens += ovSummary + lines + carried + (k > 0 ? ovShift + 2L * summaryTokens : 0);
                }
            }
        }

        return new EfficiencyEstimate
        {
            Partitions = partitions.Count,
            LiberCalls = liberCalls,
            LiberPromptTokens = liberTokens,
            NaivePerEventCalls = streams.EventCount,
            NaivePerEventPromptTokens = perEventTokens,
            PerUserCalls = users,
            PerUserPromptTokens = perUserTokens,
            ContextWindow = contextWindow,
            SummaryTokens = summaryTokens,
        };
    }
}
