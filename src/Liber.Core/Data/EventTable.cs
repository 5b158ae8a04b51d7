namespace Liber.Core.Data;

/// <summary>
/// Events in source order, stored column-wise so that a 1M-event data set costs about 20 MB.
/// The index of an event in this table is its source position.
/// </summary>
public sealed class EventTable
{
    private int[] _users;
    private int[] _items;
    private long[] _timestamps;
    private float[] _ratings;

    /// <summary>Creates an empty table with room for <paramref name="capacity"/> events.</summary>
    public EventTable(int capacity = 1024)
    {
        capacity = Math.Max(capacity, 16);
        _users = new int[capacity];
        _items = new int[capacity];
        _timestamps = new long[capacity];
        _ratings = new float[capacity];
    }

    /// <summary>Number of events.</summary>
    public int Count { get; private set; }

    /// <summary>Dense user ids by position.</summary>
    public ReadOnlySpan<int> Users => _users.AsSpan(0, Count);

    /// <summary>Dense item ids by position.</summary>
    public ReadOnlySpan<int> Items => _items.AsSpan(0, Count);

    /// <summary>Unix timestamps (seconds) by position.</summary>
    public ReadOnlySpan<long> Timestamps => _timestamps.AsSpan(0, Count);

    /// <summary>Ratings by position.</summary>
    public ReadOnlySpan<float> Ratings => _ratings.AsSpan(0, Count);

    /// <summary>The event at a source position.</summary>
    public BehaviorEvent this[int position] => new(_users[position], _items[position], _timestamps[position], _ratings[position], position);

    /// <summary>Appends an event; its position is the current <see cref="Count"/>.</summary>
    public void Add(int user, int item, long timestamp, float rating)
    {
        if (Count == _users.Length)
        {
            int size = checked(_users.Length * 2);
            Array.Resize(ref _users, size);
            Array.Resize(ref _items, size);
            Array.Resize(ref _timestamps, size);
            Array.Resize(ref _ratings, size);
        }

        _users[Count] = user;
        _items[Count] = item;
        _timestamps[Count] = timestamp;
        _ratings[Count] = rating;
        Count++;
    }

    /// <summary>Rewrites every user id through <paramref name="map"/> (used when dense ids are renumbered).</summary>
    public void RemapUsers(int[] map)
    {
        for (int i = 0; i < Count; i++)
        {
            _users[i] = map[_users[i]];
        }
    }
}
