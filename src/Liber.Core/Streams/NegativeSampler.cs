namespace Liber.Core.Streams;

/// <summary>How negatives of implicit data are drawn.</summary>
public enum NegativeSampling
{
    /// <summary>Proportional to each item's event count over all users strictly before the sample's timestamp (uniform while no event is earlier).</summary>
    Popularity,

    /// <summary>Uniform over the data set's items.</summary>
    Uniform,
}

/// <summary>
/// Draws the negatives of implicit data (docs/protocol.md, "Implicit feedback"): for each positive, in the global
/// temporal order of the samples, <c>n</c> items the user had not interacted with at or before the positive's
/// timestamp (so never a same-time positive either) and not the positive itself, drawn with one seeded
/// <see cref="Random"/>, so the negatives are identical across backbones and runs.
/// </summary>
internal sealed class NegativeSampler
{
    private const int MaxRejections = 64;

    private readonly UserStreams _streams;
    private readonly NegativeSampling _mode;
    private readonly Random _random;
    private readonly long[] _tree; // Fenwick tree of item event counts over events strictly before the current time
    private readonly int[] _byTime; // every stream row, ordered by timestamp
    private readonly HashSet<int>[] _seen; // per user: items at rows already passed
    private readonly int[] _seenUpTo; // per user: next row of its stream not yet in _seen
    private readonly int _items;
    private int _timeCursor;
    private long _total;

    public NegativeSampler(UserStreams streams, NegativeSampling mode, int seed)
    {
        _streams = streams;
        _mode = mode;
        _random = new Random(seed);
        _items = streams.Dataset.Items.Count;
        _tree = new long[_items + 1];
        ReadOnlySpan<long> ts = streams.Timestamps;
        _byTime = new int[streams.EventCount];
        for (int r = 0; r < _byTime.Length; r++)
        {
            _byTime[r] = r;
        }

        long[] keys = ts.ToArray();
        Array.Sort(keys, _byTime); // ties: any order, all rows of one timestamp enter the counts together
        _seen = new HashSet<int>[streams.UserCount];
        _seenUpTo = new int[streams.UserCount];
        for (int u = 0; u < streams.UserCount; u++)
        {
            _seen[u] = [];
            _seenUpTo[u] = streams.Offsets[u];
        }
    }

    /// <summary>Writes <paramref name="into"/>.Length negatives for the positive at stream row <paramref name="row"/> of <paramref name="user"/>. Calls must come in non-decreasing timestamp order.</summary>
    public void Draw(int user, int row, Span<int> into)
    {
        ReadOnlySpan<long> ts = _streams.Timestamps;
        long t = ts[row];
        while (_timeCursor < _byTime.Length && ts[_byTime[_timeCursor]] < t)
        {
            Add(_streams.Items[_byTime[_timeCursor++]]);
        }

        HashSet<int> seen = _seen[user];
        int end = _streams.Offsets[user + 1];
        while (_seenUpTo[user] < end && ts[_seenUpTo[user]] <= t)
        {
            seen.Add(_streams.Items[_seenUpTo[user]++]);
        }

        if (seen.Count >= _items)
        {
            throw new ArgumentException($"implicit data: user {_streams.Dataset.Users.External(user)} has interacted with every one of the {_items} items by time {t}, so no negative can be drawn for their event; add items to the catalog or remove the user");
        }

        int positive = _streams.Items[row];
        for (int k = 0; k < into.Length; k++)
        {
            int item = -1;
            for (int attempt = 0; attempt < MaxRejections && item < 0; attempt++)
            {
                int c = _mode == NegativeSampling.Popularity && _total > 0 ? ByCount(_random.NextInt64(_total)) : _random.Next(_items);
                if (c != positive && !seen.Contains(c))
                {
                    item = c;
                }
            }

            while (item < 0)
            {
                // Rejection kept failing (a user who has seen most of the popular items): uniform over all items.
                int c = _random.Next(_items);
                if (c != positive && !seen.Contains(c))
                {
                    item = c;
                }
            }

            into[k] = item;
        }
    }

    private void Add(int item)
    {
        _total++;
        for (int i = item + 1; i <= _items; i += i & -i)
        {
            _tree[i]++;
        }
    }

    // The item whose cumulative count range holds the target (0 <= target < total).
    private int ByCount(long target)
    {
        int pos = 0;
        int step = 1;
        while (step * 2 <= _items)
        {
            step *= 2;
        }

        for (; step > 0; step >>= 1)
        {
            int next = pos + step;
            if (next <= _items && _tree[next] <= target)
            {
                pos = next;
                target -= _tree[next];
            }
        }

        return pos; // 0-based item id
    }
}
