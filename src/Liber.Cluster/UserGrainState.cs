using Liber.Core.Partitioning;

namespace Liber.Cluster;

/// <summary>One event of one user as a client sends it to the user's grain (the user is the grain's key).</summary>
/// <param name="EventId">The event's id: the idempotency key within the user's stream.</param>
/// <param name="Item">External item id (must be in the cluster's catalog).</param>
/// <param name="Timestamp">Unix seconds.</param>
/// <param name="Rating">Rating or feedback value.</param>
[GenerateSerializer]
[Alias("liber.UserEvent")]
public readonly record struct UserEvent([property: Id(0)] long EventId, [property: Id(1)] string Item, [property: Id(2)] long Timestamp, [property: Id(3)] float Rating);

/// <summary>A closed partition waiting in a user's outbox to be handed on (to UIL and the encoder), with its events.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Events">Its events in index order.</param>
[GenerateSerializer]
[Alias("liber.ClosedPartition")]
public sealed record ClosedPartition([property: Id(0)] Partition Partition, [property: Id(1)] PartitionEvent[] Events);

/// <summary>
/// The persistent state of one user grain, written in one storage write per appended batch: the UBSP engine's state
/// (short-term cache and counters), the event counters, the user's recent event ids with their content (idempotency)
/// and the outbox of closed partitions not yet handed on. Closed partitions leave the grain only through the outbox,
/// so a partition is never lost between "closed" and "queued for UIL".
/// </summary>
[GenerateSerializer]
[Alias("liber.UserGrainState.v1")]
public sealed class UserGrainState
{
    /// <summary>Policy, caps and tokenizer the state was built under (<see cref="UbspSettings.Description"/>); null before the first event.</summary>
    [Id(0)]
    public string? Policy { get; set; }

    /// <summary>
    /// Dense user id, assigned on the first applied event (null before). Every field's "unset" value is its type's
    /// default: storage serializers that leave out default values (the JSON one Orleans uses for memory storage does)
    /// would otherwise read a dense id 0 back as an initializer's sentinel.
    /// </summary>
    [Id(1)]
    public int? DenseId { get; set; }

    /// <summary>Index the next appended event gets in the user's stream (= events applied).</summary>
    [Id(2)]
    public int NextIndex { get; set; }

    /// <summary>Partitions closed so far.</summary>
    [Id(3)]
    public int PartitionCount { get; set; }

    /// <summary>Timestamp of the latest event appended (null before the first).</summary>
    [Id(4)]
    public long? LastTimestamp { get; set; }

    /// <summary>The short-term cache, oldest first.</summary>
    [Id(5)]
    public PartitionEvent[] Cache { get; set; } = [];

    /// <summary>Events offered that were duplicates of applied ones.</summary>
    [Id(6)]
    public long Duplicates { get; set; }

    /// <summary>Events refused because their id was applied with other content.</summary>
    [Id(7)]
    public long Conflicts { get; set; }

    /// <summary>Events rejected (unknown item, bad rating, late, outside the idempotency window).</summary>
    [Id(8)]
    public long Rejected { get; set; }

    /// <summary>The most recently applied events (id and content), oldest first, at most <see cref="UbspSettings.RecentIds"/>.</summary>
    [Id(9)]
    public List<PartitionEvent> Recent { get; set; } = [];

    /// <summary>The newest timestamp among applied events whose ids were dropped from <see cref="Recent"/> (null while none were).</summary>
    [Id(10)]
    public long? ForgottenThrough { get; set; }

    /// <summary>Closed partitions not yet handed on, oldest first.</summary>
    [Id(11)]
    public List<ClosedPartition> Outbox { get; set; } = [];

    /// <summary>
    /// With shared statistics (<see cref="IStatsSink"/>): the number (in the order applied) of the first event in
    /// <see cref="Uncounted"/>, i.e. how many of the user's applied events came before it.
    /// </summary>
    [Id(12)]
    public int UncountedFrom { get; set; }

    /// <summary>
    /// With shared statistics: applied events not yet known to be counted, oldest first. Written with the events' own state
    /// write and counted after it (<see cref="IStatsSink.CountAsync"/>); a count repeated after a crash is a no-op.
    /// </summary>
    [Id(13)]
    public List<StatEvent> Uncounted { get; set; } = [];

    /// <summary>The engine state this grain state holds, for <see cref="UserPartitioner"/>.</summary>
    public UserPartitionState ToPartitionState(int denseId) =>
        new() { User = denseId, NextIndex = NextIndex, PartitionCount = PartitionCount, LastTimestamp = LastTimestamp, Cache = Cache };
}

/// <summary>What a user grain reports of itself.</summary>
/// <param name="User">External user id (the grain key).</param>
/// <param name="DenseId">Dense user id (-1 before the first applied event).</param>
/// <param name="Policy">Policy line the state was built under, or null.</param>
/// <param name="Applied">Events applied (= the next event's index).</param>
/// <param name="PartitionCount">Partitions closed.</param>
/// <param name="LastTimestamp">Latest event time, or null.</param>
/// <param name="Cache">The short-term cache, oldest first.</param>
/// <param name="Duplicates">Duplicates seen.</param>
/// <param name="Conflicts">Conflicts seen.</param>
/// <param name="Rejected">Events rejected.</param>
/// <param name="RecentIds">Event ids kept for idempotency.</param>
/// <param name="Outbox">Partitions in the outbox.</param>
[GenerateSerializer]
[Alias("liber.UserSnapshot")]
public sealed record UserSnapshot(
    [property: Id(0)] string User,
    [property: Id(1)] int DenseId,
    [property: Id(2)] string? Policy,
    [property: Id(3)] int Applied,
    [property: Id(4)] int PartitionCount,
    [property: Id(5)] long? LastTimestamp,
    [property: Id(6)] PartitionEvent[] Cache,
    [property: Id(7)] long Duplicates,
    [property: Id(8)] long Conflicts,
    [property: Id(9)] long Rejected,
    [property: Id(10)] int RecentIds,
    [property: Id(11)] int Outbox);
