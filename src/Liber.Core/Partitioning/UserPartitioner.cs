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

    /// <summary>Events in the short-term cache, oldest first.</summary>
    public PartitionEvent[] Cache { get; init; } = [];
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
        if (_count > 0 && e.Timestamp < _cache[_count - 1].Timestamp)
        {
            throw new ArgumentException($"event {e.EventId} of user {User} at {e.Timestamp} is older than the last cached event ({_cache[_count - 1].Timestamp}); streams must be appended in order");
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
        Partition? after = _count >= _caps.MaxEvents || _tokens >= _caps.MaxPromptTokens || _policy.CloseAfter(this) ? Close() : null;
        return (before, after) switch
        {
            (null, null) => [],
            (not null, null) => [before],
            (null, not null) => [after],
            _ => [before!, after!],
        };
    }

    /// <summary>The current state, for persistence; resuming from it continues exactly here.</summary>
    public UserPartitionState Save() => new() { User = User, NextIndex = NextIndex, PartitionCount = PartitionCount, Cache = _cache[.._count] };

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
