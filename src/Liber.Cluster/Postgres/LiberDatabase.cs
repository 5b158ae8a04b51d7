using Npgsql;

namespace Liber.Cluster.Postgres;

/// <summary>
/// Liber's tables in the cluster's PostgreSQL database, opened once per process: the connection pool, the partition log
/// (where user grains drain their outboxes) and the interest job queue (what the nearline worker leases).
/// </summary>
public sealed class LiberDatabase : IDisposable
{
    private LiberDatabase(NpgsqlDataSource source)
    {
        Source = source;
        Log = new PostgresPartitionLog(source);
        Jobs = new PostgresJobQueue(source);
    }

    /// <summary>The connection pool.</summary>
    public NpgsqlDataSource Source { get; }

    /// <summary>Users, closed partitions and their events.</summary>
    public PostgresPartitionLog Log { get; }

    /// <summary>The interest job queue.</summary>
    public PostgresJobQueue Jobs { get; }

    /// <summary>Opens the database at <paramref name="connectionString"/> (Npgsql format) and creates Liber's tables when missing.</summary>
    public static LiberDatabase Open(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlDataSource source;
        try
        {
            source = NpgsqlDataSource.Create(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"not an Npgsql connection string: {e.Message}", nameof(connectionString), e);
        }

        try
        {
            LiberTables.Ensure(source);
            return new LiberDatabase(source);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Source.Dispose();
}
