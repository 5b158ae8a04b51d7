using Liber.Core.Data;

namespace Liber.Core.Streams;

/// <summary>
/// Every user's time-ordered event stream, stored once in compressed-row form: the events of user
/// <c>u</c> are the rows <c>[Offsets[u], Offsets[u+1])</c>, ordered by (timestamp, source position) —
/// ties keep file order (protocol section 1). The row of the event with index <c>i</c> in its user's
/// stream is <c>Offsets[u] + i</c>. Duplicate events (same user, item, timestamp) are dropped, the
/// first in file order kept, and counted.
/// </summary>
public sealed class UserStreams
{
    private readonly int[] _offsets;
    private readonly int[] _items;
    private readonly long[] _timestamps;
    private readonly float[] _ratings;
    private readonly int[] _positions;

    private UserStreams(Dataset dataset, int[] offsets, int[] items, long[] timestamps, float[] ratings, int[] positions, int duplicates)
    {
        Dataset = dataset;
        _offsets = offsets;
        _items = items;
        _timestamps = timestamps;
        _ratings = ratings;
        _positions = positions;
        DuplicatesDropped = duplicates;
    }

    /// <summary>The data set the streams came from.</summary>
    public Dataset Dataset { get; }

    /// <summary>Number of users (dense ids 0..UserCount-1).</summary>
    public int UserCount => _offsets.Length - 1;

    /// <summary>Number of events kept (after duplicates were dropped).</summary>
    public int EventCount => _items.Length;

    /// <summary>Duplicate events dropped.</summary>
    public int DuplicatesDropped { get; }

    /// <summary>Row offsets: user <c>u</c> owns rows <c>[Offsets[u], Offsets[u+1])</c>.</summary>
    public ReadOnlySpan<int> Offsets => _offsets;

    /// <summary>Item id by row.</summary>
    public ReadOnlySpan<int> Items => _items;

    /// <summary>Timestamp by row.</summary>
    public ReadOnlySpan<long> Timestamps => _timestamps;

    /// <summary>Rating by row.</summary>
    public ReadOnlySpan<float> Ratings => _ratings;

    /// <summary>Source position by row.</summary>
    public ReadOnlySpan<int> Positions => _positions;

    /// <summary>Number of events of a user.</summary>
    public int Length(int user) => _offsets[user + 1] - _offsets[user];

    /// <summary>The row of event <paramref name="index"/> of <paramref name="user"/>.</summary>
    public int Row(int user, int index) => _offsets[user] + index;

    /// <summary>The user owning a row (binary search over the offsets).</summary>
    public int UserOfRow(int row)
    {
        int i = Array.BinarySearch(_offsets, row);
        if (i >= 0)
        {
            // Skip users with no rows that share this offset.
            while (i + 1 < _offsets.Length && _offsets[i + 1] == row)
            {
                i++;
            }

            return i;
        }

        return ~i - 1;
    }

    /// <summary>The events of one user, in stream order.</summary>
    public IEnumerable<BehaviorEvent> Stream(int user)
    {
        for (int r = _offsets[user]; r < _offsets[user + 1]; r++)
        {
            yield return new BehaviorEvent(user, _items[r], _timestamps[r], _ratings[r], _positions[r]);
        }
    }

    /// <summary>Orders a data set's events into user streams.</summary>
    public static UserStreams Build(Dataset dataset)
    {
        EventTable ev = dataset.Events;
        int n = ev.Count;
        int users = dataset.Users.Count;
        ReadOnlySpan<int> evUsers = ev.Users;
        ReadOnlySpan<long> evTs = ev.Timestamps;

        // Counting sort by user: stable, so each user's rows start in file order.
        int[] offsets = new int[users + 1];
        foreach (int u in evUsers)
        {
            offsets[u + 1]++;
        }

        for (int u = 0; u < users; u++)
        {
            offsets[u + 1] += offsets[u];
        }

        int[] cursor = offsets[..^1];
        // Sort key: timestamp in the high 32 bits, source position in the low 32. Keys are unique, so an
        // unstable sort still orders ties by file position, exactly as the protocol requires.
        ulong[] keys = new ulong[n];
        for (int p = 0; p < n; p++)
        {
            keys[cursor[evUsers[p]]++] = ((ulong)evTs[p] << 32) | (uint)p;
        }

        for (int u = 0; u < users; u++)
        {
            Span<ulong> span = keys.AsSpan(offsets[u], offsets[u + 1] - offsets[u]);
            if (!IsSorted(span))
            {
                span.Sort();
            }
        }

        // Drop duplicates (same item and timestamp within a user), keeping the first in file order.
        ReadOnlySpan<int> evItems = ev.Items;
        ReadOnlySpan<float> evRatings = ev.Ratings;
        var items = new int[n];
        var ts = new long[n];
        var ratings = new float[n];
        var positions = new int[n];
        var newOffsets = new int[users + 1];
        var run = new HashSet<int>();
        int w = 0;
        int dropped = 0;
        for (int u = 0; u < users; u++)
        {
            newOffsets[u] = w;
            long runTs = long.MinValue;
            int runStart = w;
            for (int k = offsets[u]; k < offsets[u + 1]; k++)
            {
                int p = (int)(keys[k] & 0xFFFFFFFF);
                long t = evTs[p];
                int item = evItems[p];
                if (t != runTs)
                {
                    runTs = t;
                    runStart = w;
                    run.Clear();
                }
                else if (w - runStart == 1)
                {
                    run.Add(items[runStart]);
                }

                if (w > runStart && !run.Add(item))
                {
                    dropped++;
                    continue;
                }

                items[w] = item;
                ts[w] = t;
                ratings[w] = evRatings[p];
                positions[w] = p;
                w++;
            }
        }

        newOffsets[users] = w;
        if (w < n)
        {
            Array.Resize(ref items, w);
            Array.Resize(ref ts, w);
            Array.Resize(ref ratings, w);
            Array.Resize(ref positions, w);
        }

        return new UserStreams(dataset, newOffsets, items, ts, ratings, positions, dropped);
    }

    private static bool IsSorted(ReadOnlySpan<ulong> span)
    {
        for (int i = 1; i < span.Length; i++)
        {
            if (span[i] < span[i - 1])
            {
                return false;
            }
        }

        return true;
    }
}
