namespace Liber.Cluster;

/// <summary>
/// Where user grains hand their closed partitions on (the outbox drain) and register their external ids: in production
/// the cluster's PostgreSQL tables (<see cref="Postgres.PostgresPartitionLog"/>). A silo without one keeps closed
/// partitions in the grains' outboxes until something calls <see cref="IUserGrain.Acknowledge"/>.
/// </summary>
public interface IPartitionSink
{
    /// <summary>
    /// The dense id of <paramref name="external"/>: the one recorded for it, or a new one the sink allocates and records
    /// (unique in the sink's database whatever the cluster's or service's id, so a cluster started under a new service id
    /// on the same tables never hands out an id twice). An id lost to a race or to an interrupted first write is a gap.
    /// </summary>
    Task<int> RegisterUserAsync(string external);

    /// <summary>
    /// Stores closed partitions with their events and a pending interest job each, in one transaction. Write-once: a
    /// partition already stored with the same content is a no-op; one stored with other content is an error naming both.
    /// </summary>
    Task SaveAsync(IReadOnlyList<ClosedPartition> partitions);
}
