using Liber.Cluster.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace Liber.Cluster;

/// <summary>
/// How a silo (and a client) of the Liber cluster is configured: the partitioning settings every silo shares, and the
/// production providers, PostgreSQL through Orleans' ADO.NET providers and Npgsql for both membership (clustering) and
/// grain state. The database schema is Orleans' own scripts (build/cluster-db.sh applies them).
/// </summary>
public static class ClusterHosting
{
    /// <summary>Name of the grain storage provider the Liber grains persist to.</summary>
    public const string StorageName = "liber";

    /// <summary>ADO.NET invariant name of Npgsql, as Orleans' ADO.NET providers expect it.</summary>
    public const string PostgresInvariant = "Npgsql";

    /// <summary>Registers the partitioning settings the user grains run under (the same on every silo).</summary>
    public static ISiloBuilder AddLiberUbsp(this ISiloBuilder silo, UbspSettings settings)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(settings);
        silo.Services.AddSingleton(settings);
        return silo;
    }

    /// <summary>Grain state of the Liber grains in PostgreSQL (Orleans' <c>OrleansStorage</c> table), serialised with the Orleans binary serializer.</summary>
    public static ISiloBuilder AddLiberPostgresStorage(this ISiloBuilder silo, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return silo.AddAdoNetGrainStorage(StorageName, ob => ob.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = connectionString;
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
    }

    /// <summary>
    /// Liber's tables in PostgreSQL (<see cref="LiberDatabase"/>, created when missing): the user grains drain their
    /// outboxes into them (<see cref="IPartitionSink"/>), and the silo's services read partitions and lease jobs from them.
    /// </summary>
    public static ISiloBuilder AddLiberPostgresTables(this ISiloBuilder silo, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        silo.Services.AddSingleton(_ => LiberDatabase.Open(connectionString));
        silo.Services.AddSingleton<IPartitionSink>(sp => sp.GetRequiredService<LiberDatabase>().Log);
        return silo;
    }

    /// <summary>
    /// Runs a silo of the cluster of <paramref name="config"/> in <paramref name="host"/> (what <c>liber serve --cluster</c>
    /// does): membership, grain state and Liber's tables in the cluster's PostgreSQL database, the partitioning settings,
    /// and the silo's endpoints on the advertised address with <paramref name="siloPort"/> and
    /// <paramref name="gatewayPort"/>. <paramref name="tables"/> are Liber's tables the user grains drain into (the silo's
    /// serving store's, which owns and disposes them); with <paramref name="stats"/>, the grains also count their applied
    /// events into the shared point-in-time statistics.
    /// </summary>
    public static IHostApplicationBuilder AddLiberSilo(this IHostApplicationBuilder host, ClusterConfig config, UbspSettings settings, int siloPort, int gatewayPort, LiberDatabase tables, PostgresStats? stats = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(tables);
        string pg = config.ConnectionString;
        host.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (config.ClusterId, config.ServiceId))
                .ConfigureEndpoints(System.Net.IPAddress.Parse(config.AdvertisedAddress), siloPort, gatewayPort, listenOnAnyHostAddress: false)
                .UseLiberPostgresClustering(pg)
                .AddLiberPostgresStorage(pg)
                .AddLiberUbsp(settings);

            // The grains drain into the same tables (and connection pool) the silo's serving store reads; the store owns them.
            silo.Services.AddSingleton(tables);
            silo.Services.AddSingleton<IPartitionSink>(tables.Log);
            if (stats is not null)
            {
                silo.Services.AddSingleton<IStatsSink>(stats);
            }
        });
        return host;
    }

    /// <summary>Cluster membership in PostgreSQL (Orleans' <c>OrleansMembershipTable</c>).</summary>
    public static ISiloBuilder UseLiberPostgresClustering(this ISiloBuilder silo, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return silo.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = connectionString;
        });
    }

    /// <summary>A client that finds the silos through the membership table in PostgreSQL.</summary>
    public static IClientBuilder UseLiberPostgresClustering(this IClientBuilder client, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return client.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresInvariant;
            o.ConnectionString = connectionString;
        });
    }
}
