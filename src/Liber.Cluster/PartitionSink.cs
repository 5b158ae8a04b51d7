namespace Liber.Cluster;

/// <summary>
/// Where user grains hand their closed partitions on (the outbox drain) and register their external ids: in production
/// the cluster's PostgreSQL tables (<see cref="Postgres.PostgresPartitionLog"/>). A silo without one keeps closed
/// partitions in the grains' outboxes until something calls <see cref="IUserGrain.Acknowledge"/>.
/// </summary>
public interface IPartitionSink
{
    /// <summary>
    /// Records that <paramref name="external"/> has the dense id <paramref name="proposed"/>, unless it is already
    /// recorded; returns the recorded id (the proposed one, or the one an earlier, interrupted first write recorded).
    /// </summary>
    Task<int> RegisterUserAsync(string external, int proposed);

    /// <summary>
    /// Stores closed partitions with their events and a pending interest job each, in one transaction. Write-once: a
    /// partition already stored with the same content is a no-op; one stored with other content is an error naming both.
    /// </summary>
    Task SaveAsync(IReadOnlyList<ClosedPartition> partitions);
}
