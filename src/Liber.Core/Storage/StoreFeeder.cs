using Liber.Core.Partitioning;
using Liber.Core.Streams;

namespace Liber.Core.Storage;

/// <summary>Progress of a feed: batches committed so far and their totals.</summary>
/// <param name="Batches">Batches committed.</param>
/// <param name="Events">Events offered so far.</param>
/// <param name="Applied">Events applied.</param>
/// <param name="Duplicates">Events already applied earlier.</param>
/// <param name="Rejected">Events rejected.</param>
/// <param name="Closed">Partitions closed.</param>
/// <param name="Conflicts">Events whose id was already applied with other content (never applied).</param>
public sealed record FeedProgress(int Batches, long Events, long Applied, long Duplicates, long Rejected, long Closed, long Conflicts = 0)
{
    /// <summary>Adds one batch's outcome.</summary>
    public FeedProgress Add(int events, AppendResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(Batches + 1, Events + events, Applied + r.Applied, Duplicates + r.Duplicates, Rejected + r.Rejected.Count, Closed + r.Closed.Count, Conflicts + r.Conflicts.Count);
    }
}

/// <summary>
/// Replays a data set into a store as live traffic would arrive: all users' events interleaved in global time
/// order (timestamp, then source order), in batches. Event ids are the events' source positions, so replaying
/// the same data set again (e.g. after a crash) applies only what is missing.
/// </summary>
public static class StoreFeeder
{
    /// <summary>Feeds every event of <paramref name="streams"/> into <paramref name="store"/> in batches of <paramref name="batchSize"/>.</summary>
    public static FeedProgress Feed(UserStreams streams, IPartitionStore store, int batchSize = 1000, Action<FeedProgress>? onBatch = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int[] order = GlobalOrder(streams);
        ReadOnlySpan<int> items = streams.Items;
        ReadOnlySpan<long> ts = streams.Timestamps;
        ReadOnlySpan<float> ratings = streams.Ratings;
        ReadOnlySpan<int> positions = streams.Positions;
        var batch = new List<StoreEvent>(batchSize);
        var progress = new FeedProgress(0, 0, 0, 0, 0, 0);
        for (int k = 0; k < order.Length; k++)
        {
            int row = order[k];
            batch.Add(new StoreEvent(streams.UserOfRow(row), positions[row], items[row], ts[row], ratings[row]));
            if (batch.Count == batchSize || k == order.Length - 1)
            {
                AppendResult r = store.Append(batch);
                progress = progress.Add(batch.Count, r);
                onBatch?.Invoke(progress);
                batch.Clear();
            }
        }

        return progress;
    }

    /// <summary>
    /// Feeds like <see cref="Feed"/> but keeps up to <paramref name="inFlight"/> batches in flight through
    /// <see cref="IPartitionStore.AppendAsync"/>, so that the store can commit several in one transaction (group
    /// commit). Batches are acknowledged (and <paramref name="onBatch"/> called) in order, each once it is durable.
    /// </summary>
    public static async Task<FeedProgress> FeedAsync(UserStreams streams, IPartitionStore store, int batchSize = 1000, int inFlight = 4, Action<FeedProgress>? onBatch = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFlight, 1);
        int[] order = GlobalOrder(streams);
        var window = new Queue<(int Count, Task<AppendResult> Task)>();
        var progress = new FeedProgress(0, 0, 0, 0, 0, 0);
        for (int from = 0; from < order.Length; from += batchSize)
        {
            int to = Math.Min(order.Length, from + batchSize);
            var batch = new StoreEvent[to - from];
            for (int k = from; k < to; k++)
            {
                int row = order[k];
                batch[k - from] = new StoreEvent(streams.UserOfRow(row), streams.Positions[row], streams.Items[row], streams.Timestamps[row], streams.Ratings[row]);
            }

            window.Enqueue((batch.Length, store.AppendAsync(batch, cancellationToken)));
            while (window.Count >= inFlight || (to == order.Length && window.Count > 0))
            {
                (int count, Task<AppendResult> task) = window.Dequeue();
                AppendResult r = await task.ConfigureAwait(false);
                progress = progress.Add(count, r);
                onBatch?.Invoke(progress);
            }
        }

        return progress;
    }

    /// <summary>The stream rows in global time order: by timestamp, then by row (which keeps each user's order).</summary>
    public static int[] GlobalOrder(UserStreams streams)
    {
        ReadOnlySpan<long> ts = streams.Timestamps;
        var keys = new (long Ts, int Row)[streams.EventCount];
        for (int row = 0; row < keys.Length; row++)
        {
            keys[row] = (ts[row], row);
        }

        Array.Sort(keys);
        var order = new int[keys.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = keys[i].Row;
        }

        return order;
    }

    /// <summary>Reads a store's partitions and caches back as a <see cref="PartitionSet"/> over <paramref name="userCount"/> dense users.</summary>
    public static PartitionSet ToPartitionSet(IPartitionStore store, int userCount)
    {
        var byUser = new List<Partition>[userCount];
        for (int u = 0; u < userCount; u++)
        {
            byUser[u] = [];
        }

        foreach (Partition p in store.AllPartitions())
        {
            if (p.User >= userCount)
            {
                throw new ArgumentException($"the store holds user {p.User}, beyond the data set's {userCount} users: was it filled from another data set?");
            }

            byUser[p.User].Add(p);
        }

        var caches = new int[userCount];
        for (int u = 0; u < userCount; u++)
        {
            caches[u] = store.State(u)?.Cache.Length ?? 0;
        }

        return PartitionSet.FromUsers(byUser, caches, store.Policy);
    }
}
