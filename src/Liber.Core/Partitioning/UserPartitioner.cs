namespace Liber.Core.Partitioning;

/// <summary>
/// The persistent state of one user in the UBSP engine: the short-term cache and where the stream stands.
/// Closed partitions are not part of it: they are immutable and stored once, elsewhere.
/// </summary>
public sealed record UserPartitionState
{
    /// <summary>Dense user id.</summary>
    public required int User { get; init; }

    /// <summary>Index the next appended event gets in the user's stream.</summary>
    public int NextIndex { get; init; }

    /// <summary>Number of partitions closed so far.</summary>
    public int PartitionCount { get; init; }

    /// <summary>Timestamp of the latest event appended so far (null before the first).</summary>
    public long? LastTimestamp { get; init; }

    /// <summary>Events in the short-term cache, oldest first.</summary>
    public PartitionEvent[] Cache { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(UserPartitionState? other) =>
        other is not null && User == other.User && NextIndex == other.NextIndex && PartitionCount == other.PartitionCount
        && LastTimestamp == other.LastTimestamp && Cache.AsSpan().SequenceEqual(other.Cache);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(User, NextIndex, PartitionCount, LastTimestamp, Cache.Length);
}

/// <summary>
/// UBSP for one user: appends events to the short-term cache and, when the policy or a hard cap says so,
/// turns the cache into an immutable long-term partition.
/// </summary>
public sealed class UserPartitioner : ICacheView
{
    private readonly IPartitionPolicy _policy;
    private readonly PartitionCaps _caps;
    private PartitionEvent[] _cache;
    private int _count;
    private int _tokens;

    /// <summary>Starts a user with an empty memory.</summary>
    public UserPartitioner(int user, IPartitionPolicy policy, PartitionCaps caps, ItemFeatures features)
        : this(new UserPartitionState { User = user }, policy, caps, features)
    {
    }

    /// <summary>Resumes a user from a saved state.</summary>
    public UserPartitioner(UserPartitionState state, IPartitionPolicy policy, PartitionCaps caps, ItemFeatures features)
    {
        caps.Validate();
        _policy = policy;
        _caps = caps;
        Features = features;
        User = state.User;
        NextIndex = state.NextIndex;
        PartitionCount = state.PartitionCount;
        LastTimestamp = state.LastTimestamp ?? (state.Cache.Length > 0 ? state.Cache[^1].Timestamp : null);
        _cache = new PartitionEvent[Math.Max(16, state.Cache.Length)];
        foreach (PartitionEvent e in state.Cache)
        {
            _cache[_count++] = e;
            _tokens += features.Tokens(e.Item);
        }
    }

    /// <summary>Dense user id.</summary>
    public int User { get; }

    /// <summary>Index the next event gets.</summary>
    public int NextIndex { get; private set; }

    /// <summary>Partitions closed so far.</summary>
    public int PartitionCount { get; private set; }

    /// <summary>Timestamp of the latest event appended so far (null before the first).</summary>
    public long? LastTimestamp { get; private set; }

    /// <inheritdoc />
    public ReadOnlySpan<PartitionEvent> Events => _cache.AsSpan(0, _count);

    /// <inheritdoc />
    public ItemFeatures Features { get; }

    /// <summary>Prompt tokens of the cached events.</summary>
    public int CacheTokens => _tokens;

    /// <summary>
    /// Appends one event. Returns the partitions this closed, oldest first: none, one, or — when a boundary
    /// both precedes the event (gap, window, token cap) and follows it (count, drift, event cap) — two.
    /// </summary>
    public Partition[] Append(in PartitionEvent e)
    {
        if (e.Timestamp < LastTimestamp)
        {
            throw new ArgumentException($"event {e.EventId} of user {User} at {e.Timestamp} is older than the user's last event ({LastTimestamp}); streams must be appended in order");
        }

        Partition? before = null;
        int itemTokens = Features.Tokens(e.Item);
        if (_count > 0 && (_tokens + itemTokens > _caps.MaxPromptTokens || _policy.CloseBefore(this, e)))
        {
            before = Close();
        }

        if (_count == _cache.Length)
        {
            Array.Resize(ref _cache, _cache.Length * 2);
        }

        _cache[_count++] = e;
        _tokens += itemTokens;
        NextIndex++;
        LastTimestamp = e.Timestamp;
        Partition? after = ShouldCloseAfter() ? Close() : null;
        return (before, after) switch
        {
            (null, null) => [],
            (not null, null) => [before],
            (null, not null) => [after],
            _ => [before!, after!],
        };
    }

    /// <summary>Whether a late event (older than the user's last event) can still join the short-term cache:
    /// the cache is not empty and its first event is not newer than the late one.</summary>
    public bool CacheSpans(long timestamp) => _count > 0 && _cache[0].Timestamp <= timestamp;

    /// <summary>
    /// Inserts a late event into the short-term cache at its time order (after every cached event with the
    /// same or an earlier timestamp), then applies the closing checks that follow an append (caps, the
    /// policy's <see cref="IPartitionPolicy.CloseAfter"/>). Closed partitions are never touched: an event
    /// older than the cache's first event is refused. Returns the partition this closed, if any.
    /// </summary>
    public Partition[] InsertIntoCache(in PartitionEvent e)
    {
        if (!CacheSpans(e.Timestamp))
        {
            throw new ArgumentException(_count == 0
                ? $"late event {e.EventId} of user {User} at {e.Timestamp}: the short-term cache is empty, and closed partitions are immutable"
                : $"late event {e.EventId} of user {User} at {e.Timestamp} is older than the short-term cache's first event ({_cache[0].Timestamp}), and closed partitions are immutable");
        }

        int at = _count;
        while (at > 0 && _cache[at - 1].Timestamp > e.Timestamp)
        {
            at--;
        }

        if (_count == _cache.Length)
        {
            Array.Resize(ref _cache, _cache.Length * 2);
        }

        Array.Copy(_cache, at, _cache, at + 1, _count - at);
        _cache[at] = e;
        _count++;
        _tokens += Features.Tokens(e.Item);
        NextIndex++;
        return ShouldCloseAfter() ? [Close()] : [];
    }

    /// <summary>The current state, for persistence; resuming from it continues exactly here.</summary>
    public UserPartitionState Save() => new() { User = User, NextIndex = NextIndex, PartitionCount = PartitionCount, LastTimestamp = LastTimestamp, Cache = _cache[.._count] };

    private bool ShouldCloseAfter() => _count >= _caps.MaxEvents || _tokens >= _caps.MaxPromptTokens || _policy.CloseAfter(this);

    private Partition Close()
    {
        ReadOnlySpan<PartitionEvent> events = Events;
        var ids = new long[events.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = events[i].EventId;
        }

        int end = NextIndex - 1;
        var p = new Partition(User, PartitionCount++, end - events.Length + 1, end, events[0].Timestamp, events[^1].Timestamp, ids, _tokens, Partition.Hash(events));
        _count = 0;
        _tokens = 0;
        return p;
    }
}
