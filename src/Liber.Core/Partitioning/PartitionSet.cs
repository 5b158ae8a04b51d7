using Liber.Core.Streams;

namespace Liber.Core.Partitioning;

/// <summary>
/// The closed partitions of every user (batch mode), stored per user in order, with the point-in-time
/// view of the protocol: a sample at index i sees exactly the partitions with End &lt; i, at most the P
/// most recent, found by binary search over the stored ends.
/// </summary>
public sealed class PartitionSet
{
    private readonly int[] _offsets;
    private readonly Partition[] _partitions;
    private readonly int[] _ends;

    private PartitionSet(int[] offsets, Partition[] partitions, int[] cacheSizes, string policy)
    {
        _offsets = offsets;
        _partitions = partitions;
        _ends = partitions.Select(p => p.End).ToArray();
        CacheSizes = cacheSizes;
        Policy = policy;
    }

    /// <summary>The policy that produced the set.</summary>
    public string Policy { get; }

    /// <summary>Number of users.</summary>
    public int UserCount => _offsets.Length - 1;

    /// <summary>Number of partitions.</summary>
    public int Count => _partitions.Length;

    /// <summary>Events left in each user's short-term cache at the end of the stream.</summary>
    public IReadOnlyList<int> CacheSizes { get; }

    /// <summary>All partitions of a user, oldest first.</summary>
    public ReadOnlySpan<Partition> Of(int user) => _partitions.AsSpan(_offsets[user], _offsets[user + 1] - _offsets[user]);

    /// <summary>Every partition, by user then number.</summary>
    public IReadOnlyList<Partition> All => _partitions;

    /// <summary>Number of partitions of a user with End &lt; index (those a sample at that index may see), in O(log n).</summary>
    public int VisibleCount(int user, int index)
    {
        int lo = _offsets[user], hi = _offsets[user + 1];
        // First partition whose End >= index.
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ends[mid] < index)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo - _offsets[user];
    }

    /// <summary>The partitions a sample at <paramref name="index"/> may see: End &lt; index, the <paramref name="max"/> most recent, oldest first.</summary>
    public ReadOnlySpan<Partition> Visible(int user, int index, int max = 32)
    {
        int k = VisibleCount(user, index);
        int from = Math.Max(0, k - max);
        return Of(user)[from..k];
    }

    /// <summary>Partitions every user's whole stream.</summary>
    public static PartitionSet Build(UserStreams streams, IPartitionPolicy policy, PartitionCaps caps, ItemFeatures features)
    {
        var offsets = new int[streams.UserCount + 1];
        var all = new List<Partition>(streams.EventCount / 10);
        var cacheSizes = new int[streams.UserCount];
        ReadOnlySpan<int> items = streams.Items;
        ReadOnlySpan<long> ts = streams.Timestamps;
        ReadOnlySpan<float> ratings = streams.Ratings;
        ReadOnlySpan<int> positions = streams.Positions;
        for (int u = 0; u < streams.UserCount; u++)
        {
            var engine = new UserPartitioner(u, policy, caps, features);
            for (int row = streams.Offsets[u]; row < streams.Offsets[u + 1]; row++)
            {
                foreach (Partition p in engine.Append(new PartitionEvent(positions[row], items[row], ts[row], ratings[row])))
                {
                    all.Add(p);
                }
            }

            cacheSizes[u] = engine.Events.Length;
            offsets[u + 1] = all.Count;
        }

        return new PartitionSet(offsets, [.. all], cacheSizes, policy.Describe());
    }

    /// <summary>Builds a set from partitions already grouped by user (e.g. read from a store).</summary>
    public static PartitionSet FromUsers(IReadOnlyList<IReadOnlyList<Partition>> byUser, IReadOnlyList<int> cacheSizes, string policy)
    {
        var offsets = new int[byUser.Count + 1];
        var all = new List<Partition>();
        for (int u = 0; u < byUser.Count; u++)
        {
            all.AddRange(byUser[u]);
            offsets[u + 1] = all.Count;
        }

        return new PartitionSet(offsets, [.. all], [.. cacheSizes], policy);
    }
}
