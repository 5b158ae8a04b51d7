using System.Reflection;
using Npgsql;

namespace Liber.Cluster.Postgres;

/// <summary>
/// Liber's own tables in the cluster's PostgreSQL database (build/sql/liber/PostgreSQL-Liber.sql, embedded): users,
/// closed partitions with their events, their interest jobs, and the shared point-in-time statistics. The script is idempotent; <see cref="Ensure"/> runs it
/// in one transaction under an advisory lock, so silos starting together do not race on the catalog.
/// </summary>
public static class LiberTables
{
    /// <summary>The schema version this code reads and writes.</summary>
    public const string SchemaVersion = "2";

    /// <summary>Advisory lock key the schema script runs under (any constant: it only has to be the same on every silo).</summary>
    private const long SchemaLock = 0x4c69626572_5347; // "Liber" "SG"

    /// <summary>The script's text.</summary>
    public static string Script { get; } = ReadScript();

    /// <summary>Creates the tables when missing and checks the schema version; throws naming the database when it is another.</summary>
    public static void Ensure(NpgsqlDataSource db)
    {
        ArgumentNullException.ThrowIfNull(db);
        using NpgsqlConnection c = db.OpenConnection();
        using NpgsqlTransaction tx = c.BeginTransaction();
        using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@k)", c, tx))
        {
            lockCmd.Parameters.AddWithValue("k", SchemaLock);
            lockCmd.ExecuteNonQuery();
        }

        using (var script = new NpgsqlCommand(Script, c, tx))
        {
            script.ExecuteNonQuery();
        }

        using (var version = new NpgsqlCommand("SELECT value FROM liber_meta WHERE key = 'schema'", c, tx))
        {
            string? found = version.ExecuteScalar() as string;
            if (found != SchemaVersion)
            {
                throw new InvalidOperationException($"database {c.Database}: Liber schema {found ?? "(none)"}, this build reads schema {SchemaVersion}; use a fresh database or migrate it");
            }
        }

        tx.Commit();
    }

    private static string ReadScript()
    {
        using Stream s = Assembly.GetExecutingAssembly().GetManifestResourceStream("Liber.Cluster.PostgreSQL-Liber.sql")
            ?? throw new InvalidOperationException("the embedded resource PostgreSQL-Liber.sql is missing from Liber.Cluster");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }
}
