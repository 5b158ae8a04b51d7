using Liber.Cluster.Postgres;
using Npgsql;

namespace Liber.Cluster.Tests;

/// <summary>
/// A scratch schema in the test database (<c>LIBER_CLUSTER_PG</c>), first on the search path of <see cref="ConnectionString"/>
/// (then <c>public</c>, where Orleans' tables are): Liber's tables are created in it, so tests never see each other's rows
/// or another checkout's. Dropped with everything in it on dispose.
/// </summary>
internal sealed class PgScratch : IDisposable
{
    public PgScratch()
    {
        Schema = "liber_t_" + Guid.NewGuid().ToString("N")[..12];
        Execute(PostgresFactAttribute.ConnectionString, $"CREATE SCHEMA {Schema}");
        ConnectionString = new NpgsqlConnectionStringBuilder(PostgresFactAttribute.ConnectionString) { SearchPath = $"{Schema},public" }.ConnectionString;
    }

    public string Schema { get; }

    public string ConnectionString { get; }

    /// <summary>Liber's database in the scratch schema.</summary>
    public LiberDatabase Open() => LiberDatabase.Open(ConnectionString);

    public static void Execute(string connectionString, string sql)
    {
        using var db = new NpgsqlConnection(connectionString);
        db.Open();
        using var c = new NpgsqlCommand(sql, db);
        c.ExecuteNonQuery();
    }

    public long Scalar(string sql)
    {
        using var db = new NpgsqlConnection(ConnectionString);
        db.Open();
        using var c = new NpgsqlCommand(sql, db);
        return Convert.ToInt64(c.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Execute(PostgresFactAttribute.ConnectionString, $"DROP SCHEMA IF EXISTS {Schema} CASCADE");
    }
}
