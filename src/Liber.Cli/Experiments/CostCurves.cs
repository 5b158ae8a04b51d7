using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;

namespace Liber.Cli.Experiments;

/// <summary>
/// Cumulative LLM calls as a data set's event stream grows (in global time order), for LIBER (calls only when a
/// partition closes) and the naive strategies: re-summarising a user's whole history at every new event, and one
/// summary per user (written once, never updated).
/// </summary>
public static class CostCurves
{
    /// <summary>Fixed prompt tokens of one call (instructions, profile, delimiters), for the token estimate.</summary>
    public const int CallOverheadTokens = 300;

    /// <summary>Tokens of a summary carried into a cascade prompt, for the token estimate (as the UIL estimate assumes).</summary>
    public const int SummaryTokens = 200;

    /// <summary>Computes the three call curves at <paramref name="points"/> evenly spaced stream lengths.</summary>
    public static IReadOnlyList<(string Label, double[] Events, double[] Calls)> Compute(Dataset dataset, PartitionOptions policy, bool twoCall, int points = 40) =>
        Curves(dataset, policy, twoCall, points, tokens: false, contextWindow: 0);

    /// <summary>
    /// Cumulative prompt tokens (an estimate from cl100k_base counts of the rendered item lines plus
    /// <see cref="CallOverheadTokens"/> per call and <see cref="SummaryTokens"/> per carried summary): LIBER reads each
    /// partition once; re-summarising reads the user's whole history (truncated to <paramref name="contextWindow"/>) at
    /// every event; one summary per user reads the whole history once.
    /// </summary>
    public static IReadOnlyList<(string Label, double[] Events, double[] Calls)> ComputeTokens(Dataset dataset, PartitionOptions policy, bool twoCall, int contextWindow = 8192, int points = 40) =>
        Curves(dataset, policy, twoCall, points, tokens: true, contextWindow);

    private static IReadOnlyList<(string Label, double[] Events, double[] Calls)> Curves(Dataset dataset, PartitionOptions policy, bool twoCall, int points, bool tokens, int contextWindow)
    {
        var streams = UserStreams.Build(dataset);
        var features = ItemFeatures.Build(dataset, new Cl100kTokenCounter());
        PartitionSet set = PartitionSet.Build(streams, PartitionPolicies.Create(policy), policy.Caps, features);

        // Each partition's calls land at the global position of its last event.
        int[] order = StoreFeeder.GlobalOrder(streams);
        var rank = new int[order.Length];
        for (int k = 0; k < order.Length; k++)
        {
            rank[order[k]] = k;
        }

        var liberAt = new double[order.Length];
        foreach (Partition p in set.All)
        {
            double summaryCall = tokens ? p.PromptTokens + CallOverheadTokens + (p.Number > 0 ? SummaryTokens : 0) : 1;
            double shiftCall = tokens ? CallOverheadTokens + (2 * SummaryTokens) : 1;
            liberAt[rank[streams.Row(p.User, p.End)]] += summaryCall + (twoCall && p.Number > 0 ? shiftCall : 0);
        }

        // Token costs of the naive strategies: the user's history so far at every event, and the whole history once.
        var historyTokens = new long[streams.UserCount];
        var wholeTokens = new long[streams.UserCount];
        for (int u = 0; u < streams.UserCount && tokens; u++)
        {
            for (int row = streams.Offsets[u]; row < streams.Offsets[u + 1]; row++)
            {
                wholeTokens[u] += features.Tokens(streams.Items[row]);
            }
        }

        var seenUser = new bool[streams.UserCount];
        var xs = new double[points];
        var liber = new double[points];
        var perEvent = new double[points];
        var perUser = new double[points];
        double calls = 0, users = 0, events = 0;
        int next = 0;
        for (int k = 0; k < order.Length; k++)
        {
            calls += liberAt[k];
            int u = streams.UserOfRow(order[k]);
            if (tokens)
            {
                historyTokens[u] += features.Tokens(streams.Items[order[k]]);
                events += Math.Min(contextWindow, historyTokens[u]) + CallOverheadTokens;
            }
            else
            {
                events++;
            }

            if (!seenUser[u])
            {
                seenUser[u] = true;
                users += tokens ? Math.Min(contextWindow, wholeTokens[u]) + CallOverheadTokens : 1;
            }

            while (next < points && k + 1 >= (long)order.Length * (next + 1) / points)
            {
                xs[next] = k + 1;
                liber[next] = calls;
                perEvent[next] = events;
                perUser[next] = users;
                next++;
            }
        }

        return
        [
            ($"LIBER ({set.Policy}, {(twoCall ? "two-call" : "one-call")})", xs, liber),
            ("re-summarise the whole history at every event", xs, perEvent),
            ("one summary per user (never updated)", xs, perUser),
        ];
    }
}
