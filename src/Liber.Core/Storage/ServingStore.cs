using Liber.Core.Data;
using Liber.Core.Partitioning;

namespace Liber.Core.Storage;

/// <summary>A live event named by external ids (as a client sends it); the store assigns dense ids on first sight.</summary>
/// <param name="EventId">The event's id (the idempotency key across the store).</param>
/// <param name="User">External user id.</param>
/// <param name="Item">External item id.</param>
/// <param name="Timestamp">Unix seconds.</param>
/// <param name="Rating">Rating or feedback value.</param>
public readonly record struct ExternalEvent(long EventId, string User, string Item, long Timestamp, float Rating);

/// <summary>External string ids of users and items and their dense ids, assigned on first sight and durable with the first event that uses them.</summary>
public interface IExternalIds
{
    /// <summary>The dense id of an external user id, or null when the user has never been seen.</summary>
    int? FindUser(string external);

    /// <summary>The external id of a dense user id.</summary>
    string UserName(int user);

    /// <summary>The dense id of an external item id, or null when the item is unknown.</summary>
    int? FindItem(string external);
}

/// <summary>Metadata of one item as a client sends it.</summary>
/// <param name="Id">External item id.</param>
/// <param name="Title">Title (the id when null).</param>
/// <param name="Year">Year, or null.</param>
/// <param name="Categories">Categories (genres).</param>
/// <param name="Tags">Tags.</param>
/// <param name="Text">Free text, or null.</param>
public sealed record ItemMetadata(string Id, string? Title, int? Year, IReadOnlyList<string> Categories, IReadOnlyList<string> Tags, string? Text);

/// <summary>
/// The item catalog of a serving store: item metadata by external id, with dense ids in order of first sight.
/// Items first seen in an event get a bare row (title = id) until metadata arrives. Partition boundaries (token
/// cap, drift) and interest texts read this metadata, so a change takes effect for events applied after it.
/// </summary>
public interface IItemCatalog
{
    /// <summary>Inserts or updates items; returns how many were new or changed.</summary>
    int UpsertItems(IReadOnlyList<ItemMetadata> items);

    /// <summary>An item by external id, or null.</summary>
    Item? FindItemMetadata(string external);

    /// <summary>A consistent snapshot of the whole catalog as a data set without events (dense item ids = catalog positions).</summary>
    Dataset CatalogSnapshot();
}

/// <summary>Status of a closed partition's interest job.</summary>
public enum InterestJobStatus
{
    /// <summary>Waiting for UIL and the encoder (or for a retry, or for the user's earlier partitions).</summary>
    Pending,

    /// <summary>Texts and vectors stored.</summary>
    Done,

    /// <summary>Given up after the retries; <see cref="InterestJob.Error"/> says why.</summary>
    Failed,
}

/// <summary>A closed partition with its interest job: status, texts, vectors and the partition's events.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Status">Job status.</param>
/// <param name="Attempts">Failed attempts so far.</param>
/// <param name="Error">The last error, or null.</param>
/// <param name="Summary">Interest summary text once done.</param>
/// <param name="Shift">Interest shift text once done (null for a user's first partition).</param>
/// <param name="SummaryVector">Encoded summary once done.</param>
/// <param name="ShiftVector">Encoded shift once done (a zero vector where there is no shift text, as the offline chain).</param>
/// <param name="Events">The partition's events in index order.</param>
public sealed record InterestJob(Partition Partition, InterestJobStatus Status, int Attempts, string? Error, string? Summary, string? Shift, float[]? SummaryVector, float[]? ShiftVector, PartitionEvent[] Events);

/// <summary>A lease on one user's run of pending partitions: <see cref="First"/>..<see cref="Last"/>, all earlier partitions being done.</summary>
/// <param name="User">Dense user id.</param>
/// <param name="First">First pending partition number.</param>
/// <param name="Last">Last pending partition number leased.</param>
/// <param name="Attempts">Failed attempts of the first one so far.</param>
public sealed record JobLease(int User, int First, int Last, int Attempts);

/// <summary>The outcome of one job attempt.</summary>
/// <param name="User">Dense user id.</param>
/// <param name="Number">Partition number.</param>
/// <param name="Status">Done, Failed (given up) or Pending (retry at <paramref name="RetryAt"/>).</param>
/// <param name="Summary">Summary text when done.</param>
/// <param name="Shift">Shift text when done.</param>
/// <param name="SummaryVector">Summary vector when done.</param>
/// <param name="ShiftVector">Shift vector when done.</param>
/// <param name="Error">Why it did not finish, or null.</param>
/// <param name="RetryAt">Unix milliseconds before which a pending job is not leased again.</param>
public sealed record JobOutcome(int User, int Number, InterestJobStatus Status, string? Summary = null, string? Shift = null, float[]? SummaryVector = null, float[]? ShiftVector = null, string? Error = null, long RetryAt = 0);

/// <summary>
/// The durable queue of closed partitions awaiting UIL and encoding. A job row is written in the same transaction as
/// its partition, so no closed partition is ever without one. Jobs of a user run in partition order (a partition's
/// prompt carries the previous summary): <see cref="Lease"/> hands out a user's pending run only when every earlier
/// partition is done. Leases are not durable: reopening the store makes every pending job available again.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue; the name is part of the serving contract (docs/scaling.md).")]
public interface IInterestJobQueue
{
    /// <summary>Jobs pending (not done, not failed).</summary>
    long PendingJobs();

    /// <summary>Every closed partition of a user with its job, oldest first.</summary>
    IReadOnlyList<InterestJob> Jobs(int user);

    /// <summary>Leases up to <paramref name="maxUsers"/> users' runs of at most <paramref name="maxPerUser"/> pending partitions that are due at <paramref name="nowMs"/> (unix ms), for <paramref name="leaseMs"/>.</summary>
    IReadOnlyList<JobLease> Lease(int maxUsers, int maxPerUser, long nowMs, long leaseMs);

    /// <summary>Records outcomes in one transaction; a not-done outcome counts one more attempt.</summary>
    void Record(IReadOnlyList<JobOutcome> outcomes);
}

/// <summary>
/// Everything a live service needs of its store: the partition log (<see cref="IPartitionStore"/>), external ids, the item
/// catalog and the durable job queue of closed partitions, with appends by external ids. <c>liber serve</c> depends on this
/// interface only; the embedded implementation is <c>Liber.Store.SqlitePartitionStore</c> (one process), and a distributed
/// store implements the same contract (docs/scaling.md).
/// </summary>
public interface IServingStore : IPartitionStore, IExternalIds, IItemCatalog, IInterestJobQueue
{
    /// <summary>Where the store lives (a file path, a connection's name), for messages and logs.</summary>
    string Path { get; }

    /// <summary>Users with an external id.</summary>
    int KnownUsers { get; }

    /// <summary>
    /// Appends a batch of events named by external ids, durably and idempotently by event id; unknown users and items are
    /// created in the same transaction. The result's partitions are the ones this batch closed.
    /// </summary>
    Task<AppendResult> AppendAsync(IReadOnlyList<ExternalEvent> events, CancellationToken cancellationToken = default);
}

/// <summary>
/// A serving store that keeps the point-in-time statistics of its events itself (a cluster's shared counters, counted
/// once per applied event whichever process applied it), instead of the service counting the events it applies.
/// </summary>
public interface ISharedStatsStore
{
    /// <summary>The statistics, counted under <paramref name="scale"/>; throws <see cref="InvalidOperationException"/> saying why when the store keeps none, or keeps them under another scale.</summary>
    Streams.IStatsSource Statistics(RatingScale scale);
}
