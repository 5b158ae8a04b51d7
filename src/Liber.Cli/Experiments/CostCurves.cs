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
    /// <summary>Computes the three curves at <paramref name="points"/> evenly spaced stream lengths.</summary>
    public static IReadOnlyList<(string Label, double[] Events, double[] Calls)> Compute(Dataset dataset, PartitionOptions policy, bool twoCall, int points = 40)
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
            liberAt[rank[streams.Row(p.User, p.End)]] += twoCall && p.Number > 0 ? 2 : 1;
        }

        var seenUser = new bool[streams.UserCount];
        var xs = new double[points];
        var liber = new double[points];
        var perEvent = new double[points];
        var perUser = new double[points];
        double calls = 0, users = 0;
        int next = 0;
        for (int k = 0; k < order.Length; k++)
        {
            calls += liberAt[k];
            int u = streams.UserOfRow(order[k]);
            if (!seenUser[u])
            {
                seenUser[u] = true;
                users++;
            }

            while (next < points && k + 1 >= (long)order.Length * (next + 1) / points)
            {
                xs[next] = k + 1;
                liber[next] = calls;
                perEvent[next] = k + 1;
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
