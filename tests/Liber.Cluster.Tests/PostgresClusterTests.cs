using System.Net;
using System.Net.Sockets;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Tests.Readers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;

namespace Liber.Cluster.Tests;

/// <summary>A fact that runs only against PostgreSQL (and, when named, a data set): skipped, saying how to run it, when <c>LIBER_CLUSTER_PG</c> is not set.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class PostgresFactAttribute : FactAttribute
{
    /// <summary>The environment variable that holds the Npgsql connection string.</summary>
    public const string Variable = "LIBER_CLUSTER_PG";

    public PostgresFactAttribute()
        : this(null)
    {
    }

    /// <summary>Also needs <paramref name="dataset"/> under shared/datasets.</summary>
    public PostgresFactAttribute(string? dataset)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable)))
        {
            Skip = $"{Variable} is not set: run `export {Variable}=\"$(bash build/cluster-db.sh | tail -n 1)\"` (installs and starts PostgreSQL, applies Orleans' schema) to run the cluster against PostgreSQL";
        }
        else if (dataset is not null && RealData.Folder(dataset) is null)
        {
            Skip = $"{dataset} not found under shared/datasets";
        }
    }

    public static string ConnectionString => Environment.GetEnvironmentVariable(Variable)!;
}

/// <summary>
/// The production providers for real: 3 silo hosts on loopback ports with membership and grain state in PostgreSQL
/// (Orleans' ADO.NET providers, Npgsql), a client that finds them through the membership table; the whole cluster
/// stopped and started again reads every user's state back from the database.
/// </summary>
public sealed class PostgresClusterTests
{
    private const int From = 200;
    private const int To = 240;

    [PostgresFact("ml-100k")]
    public async Task Three_silos_on_postgres_keep_every_user_s_state_across_a_restart_of_the_whole_cluster()
    {
        string pg = PostgresFactAttribute.ConnectionString;
        string serviceId = "liber-test-" + Guid.NewGuid().ToString("N")[..12];
        Ml100kSlice data = ClusterFixture.Data;
        ExternalEvent[] traffic = [.. data.Traffic(From, To).Select(t => t.Event)];
        PartitionSet offline = data.Batch();
        try
        {
            UserSnapshot[] before;
            ClosedPartition[][] outboxes;
            await using (var cluster = await PostgresCluster.StartAsync(pg, serviceId, data.Settings))
            {
                int closed = 0;
                foreach (ExternalEvent[] batch in traffic.Chunk(500))
                {
                    AppendResult r = await ClusterIngest.AppendAsync(cluster.Client, batch);
                    Assert.Equal(batch.Length, r.Applied);
                    closed += r.Closed.Count;
                }

                before = await Snapshots(cluster.Client, data);
                outboxes = await Task.WhenAll(Users(data).Select(u => cluster.Client.GetGrain<IUserGrain>(u).Outbox()));
                Assert.Equal(closed, outboxes.Sum(o => o.Length));
                for (int u = From; u < To; u++)
                {
                    Assert.Equal([.. offline.Of(u).ToArray().Select(Ml100kSlice.Key)], outboxes[u - From].Select(c => Ml100kSlice.Key(c.Partition)));
                }

                // The first user hands its first partition on: the outbox shrinks durably.
                Assert.Equal(outboxes[0].Length - 1, await cluster.Client.GetGrain<IUserGrain>(data.Dataset.Users.External(From)).Acknowledge(0));
            }

            Assert.True(await StoredStates(pg, serviceId) >= To - From, "the user grains' states are rows of OrleansStorage");

            await using (var cluster = await PostgresCluster.StartAsync(pg, serviceId, data.Settings))
            {
                UserSnapshot[] after = await Snapshots(cluster.Client, data);
                for (int i = 0; i < after.Length; i++)
                {
                    Assert.Equal((before[i].DenseId, before[i].Applied, before[i].PartitionCount, before[i].LastTimestamp, before[i].Policy), (after[i].DenseId, after[i].Applied, after[i].PartitionCount, after[i].LastTimestamp, after[i].Policy));
                    Assert.Equal(before[i].Cache, after[i].Cache);
                    Assert.Equal(before[i].Outbox - (i == 0 ? 1 : 0), after[i].Outbox);
                }

                ClosedPartition[] first = await cluster.Client.GetGrain<IUserGrain>(data.Dataset.Users.External(From)).Outbox();
                Assert.Equal(outboxes[0].Skip(1).Select(c => Ml100kSlice.Key(c.Partition)), first.Select(c => Ml100kSlice.Key(c.Partition)));

                AppendResult again = await ClusterIngest.AppendAsync(cluster.Client, traffic);
                Assert.Equal(0, again.Applied);
                Assert.Equal(traffic.Length, again.Duplicates);
            }
        }
        finally
        {
            await Forget(pg, serviceId);
        }
    }

    private static IEnumerable<string> Users(Ml100kSlice data) => Enumerable.Range(From, To - From).Select(u => data.Dataset.Users.External(u));

    private static Task<UserSnapshot[]> Snapshots(IClusterClient client, Ml100kSlice data) =>
        Task.WhenAll(Users(data).Select(u => client.GetGrain<IUserGrain>(u).Snapshot()));

    private static async Task<long> StoredStates(string pg, string serviceId)
    {
        await using var db = new NpgsqlConnection(pg);
        await db.OpenAsync();
        await using var c = new NpgsqlCommand("SELECT count(*) FROM orleansstorage WHERE serviceid = @s AND payloadbinary IS NOT NULL", db);
        c.Parameters.AddWithValue("s", serviceId);
        return (long)(await c.ExecuteScalarAsync())!;
    }

    /// <summary>Removes the test's rows (grain states of its service id, membership of its cluster ids).</summary>
    private static async Task Forget(string pg, string serviceId)
    {
        await using var db = new NpgsqlConnection(pg);
        await db.OpenAsync();
        foreach (string sql in new[]
        {
            "DELETE FROM orleansstorage WHERE serviceid = @s",
            "DELETE FROM orleansmembershiptable WHERE deploymentid LIKE @s || '%'",
            "DELETE FROM orleansmembershipversiontable WHERE deploymentid LIKE @s || '%'",
        })
        {
            await using var c = new NpgsqlCommand(sql, db);
            c.Parameters.AddWithValue("s", serviceId);
            await c.ExecuteNonQueryAsync();
        }
    }

    /// <summary>3 silo hosts and a client host, each configured as <c>liber serve --cluster</c> will be: PostgreSQL membership and grain state.</summary>
    private sealed class PostgresCluster : IAsyncDisposable
    {
        private readonly List<IHost> _silos = [];
        private IHost? _client;

        public IClusterClient Client => _client!.Services.GetRequiredService<IClusterClient>();

        public static async Task<PostgresCluster> StartAsync(string pg, string serviceId, UbspSettings settings)
        {
            var cluster = new PostgresCluster();
            string clusterId = serviceId + "-" + Guid.NewGuid().ToString("N")[..6];
            try
            {
                for (int i = 0; i < 3; i++)
                {
                    HostApplicationBuilder b = Host.CreateApplicationBuilder();
                    int siloPort = FreePort(), gatewayPort = FreePort();
                    b.UseOrleans(silo => silo
                        .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, serviceId))
                        .ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort)
                        .UseLiberPostgresClustering(pg)
                        .AddLiberPostgresStorage(pg)
                        .AddLiberUbsp(settings));
                    IHost host = b.Build();
                    cluster._silos.Add(host);
                    await host.StartAsync();
                }

                HostApplicationBuilder c = Host.CreateApplicationBuilder();
                c.UseOrleansClient(client => client
                    .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, serviceId))
                    .UseLiberPostgresClustering(pg));
                cluster._client = c.Build();
                await cluster._client.StartAsync();
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_client is not null)
            {
                await _client.StopAsync();
                _client.Dispose();
            }

            foreach (IHost silo in _silos)
            {
                await silo.StopAsync();
                silo.Dispose();
            }
        }

        private static int FreePort()
        {
            using var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            return ((IPEndPoint)l.LocalEndpoint).Port;
        }
    }
}
