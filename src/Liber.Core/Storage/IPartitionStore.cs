using Liber.Core.Partitioning;

namespace Liber.Core.Storage;

/// <summary>One live event for the UBSP store. <see cref="EventId"/> is unique across the store: appending the same id twice is a no-op.</summary>
/// <param name="User">Dense user id.</param>
/// <param name="EventId">The event's id (the idempotency key).</param>
/// <param name="Item">Dense item id.</param>
/// <param name="Timestamp">Unix seconds.</param>
/// <param name="Rating">Rating or feedback value.</param>
public readonly record struct StoreEvent(int User, long EventId, int Item, long Timestamp, float Rating)
{
    /// <summary>The event as the partition engine sees it.</summary>
    public PartitionEvent ToPartitionEvent() => new(EventId, Item, Timestamp, Rating);
}

/// <summary>What the store does with an event older than its user's last event.</summary>
public enum LateEventRule
{
    /// <summary>Reject it with a reason naming the event and the user's last timestamp (default).</summary>
    Reject,

    /// <summary>Insert it into the short-term cache at its time order if the cache still spans its time; else reject it. Closed partitions are never reordered.</summary>
    InsertIfCacheSpans,
}

/// <summary>How hard a committed batch is made durable.</summary>
public enum Durability
{
    /// <summary>Every commit is flushed to disk before <c>Append</c> returns (SQLite synchronous=FULL): survives a process crash and a power loss.</summary>
    Full,

    /// <summary>Commits survive a process crash but the last ones may be lost on a power loss (SQLite WAL with synchronous=NORMAL).</summary>
    Normal,
}

/// <summary>An event the store did not apply, and why.</summary>
/// <param name="Index">Its position in the batch.</param>
/// <param name="EventId">Its id.</param>
/// <param name="Reason">Why it was rejected.</param>
public sealed record RejectedEvent(int Index, long EventId, string Reason);

/// <summary>The outcome of one appended batch: every event is counted exactly once as applied, duplicate, conflict or rejected.</summary>
public sealed record AppendResult
{
    /// <summary>Events applied to their users' caches.</summary>
    public int Applied { get; init; }

    /// <summary>Positions in the batch of the events applied, ascending (<see cref="Applied"/> of them).</summary>
    public IReadOnlyList<int> AppliedIndices { get; init; } = [];

    /// <summary>Events already applied earlier (same event id and the same content): no-ops.</summary>
    public int Duplicates { get; init; }

    /// <summary>
    /// Events whose id was already applied with other content (another user, item, timestamp or rating): never applied,
    /// never overwriting the first, each with a reason naming both contents.
    /// </summary>
    public IReadOnlyList<RejectedEvent> Conflicts { get; init; } = [];

    /// <summary>Events rejected, with reasons.</summary>
    public IReadOnlyList<RejectedEvent> Rejected { get; init; } = [];

    /// <summary>Partitions this batch closed, in the order they closed.</summary>
    public IReadOnlyList<Partition> Closed { get; init; } = [];
}

/// <summary>
/// The persistent UBSP state for live use: each user's short-term cache, the immutable long-term partitions and
/// the ids of events already applied. A batch is atomic: when <see cref="Append"/> returns, all of it is durable;
/// when it throws, none of it is. Implementations: <c>Liber.Store.SqlitePartitionStore</c> (embedded, one process); a
/// distributed store (e.g. sharded by user) implements the same contract.
/// </summary>
public interface IPartitionStore : IDisposable
{
    /// <summary>The partition policy and caps the store was created with (they may not change over its life).</summary>
    string Policy { get; }

    /// <summary>Appends a batch of events in order. Duplicates are no-ops; late events follow the configured <see cref="LateEventRule"/>.</summary>
    AppendResult Append(IReadOnlyList<StoreEvent> events);

    /// <summary>Appends a batch asynchronously; batches in flight together may share one commit (group commit). Completes when the batch is durable.</summary>
    Task<AppendResult> AppendAsync(IReadOnlyList<StoreEvent> events, CancellationToken cancellationToken = default);

    /// <summary>The closed partitions of a user, oldest first (empty for an unknown user).</summary>
    IReadOnlyList<Partition> Partitions(int user);

    /// <summary>Whether an event id has been applied (and so is durable).</summary>
    bool IsApplied(long eventId);

    /// <summary>Every partition in the store, by user (ascending) then number.</summary>
    IEnumerable<Partition> AllPartitions();

    /// <summary>The saved engine state of a user (short-term cache and counters), or null for an unknown user.</summary>
    UserPartitionState? State(int user);

    /// <summary>Every user with state in the store, in ascending order.</summary>
    IReadOnlyList<int> Users();

    /// <summary>Totals over the whole store.</summary>
    StoreTotals Totals();
}

/// <summary>Totals over a store.</summary>
/// <param name="Users">Users with state.</param>
/// <param name="EventsApplied">Event ids applied.</param>
/// <param name="Partitions">Closed partitions.</param>
/// <param name="EventsInCaches">Events in short-term caches.</param>
public sealed record StoreTotals(int Users, long EventsApplied, long Partitions, long EventsInCaches);
