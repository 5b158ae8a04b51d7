using Liber.Cluster.Postgres;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Liber.Cluster.Tests;

/// <summary>
/// The user grains drain their outboxes into PostgreSQL: a 3-silo in-process cluster (memory grain storage) with Liber's
/// tables in a scratch schema. Every closed partition ends up in <c>liber_partitions</c> with a pending job, exactly once,
/// even when the silo fails between the database write and the acknowledgement.
/// </summary>
public sealed class OutboxDrainTests
{
    [PostgresFact("ml-100k")]
    public async Task Every_closed_partition_leaves_the_outbox_into_postgres_once_with_a_pending_job()
    {
        const int Users = 60;
        Ml100kSlice data = ClusterFixture.Data;
        using var pg = new PgScratch();
        await using InProcessTestCluster cluster = await Start(pg, data.Settings);
        IGrainFactory[] entrances = [cluster.Client, .. cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<IGrainFactory>())];
        int closed = 0, b = 0;
        foreach (ExternalEvent[] batch in data.Traffic(0, Users).Select(t => t.Event).Chunk(400))
        {
            AppendResult r = await ClusterIngest.AppendAsync(entrances[b++ % entrances.Length], batch);
            Assert.Equal(batch.Length, r.Applied);
            closed += r.Closed.Count;
        }

        using LiberDatabase db = pg.Open();
        PartitionSet offline = data.Batch();
        for (int u = 0; u < Users; u++)
        {
            string external = data.Dataset.Users.External(u);
            UserSnapshot s = await cluster.Client.GetGrain<IUserGrain>(external).Snapshot();
            Assert.Equal(0, s.Outbox);
            Assert.Equal(s.DenseId, db.Log.FindUser(external));
            IReadOnlyList<ClosedPartition> stored = db.Log.Partitions(s.DenseId);
            Assert.Equal([.. offline.Of(u).ToArray().Select(Ml100kSlice.Key)], stored.Select(c => Ml100kSlice.Key(c.Partition)));
            Assert.All(stored, c => Assert.Equal(c.Partition.ContentHash, Partition.Hash(c.Events)));
        }

        Assert.True(closed > 3 * Users, $"only {closed} partitions closed");
        Assert.Equal(closed, db.Log.Count());
        Assert.Equal(closed, db.Jobs.PendingJobs());
        Assert.Equal(Users, db.Log.KnownUsers());
    }

    [PostgresFact("ml-100k")]
    public async Task A_failure_between_the_database_write_and_the_acknowledgement_is_repaired_by_the_resend()
    {
        Ml100kSlice data = ClusterFixture.Data;
        using var pg = new PgScratch();
        await using InProcessTestCluster cluster = await Start(pg, data.Settings, flaky: true);
        PartitionSet offline = data.Batch();
        int U = Enumerable.Range(0, 50).MaxBy(u => offline.Of(u).Length);
        string external = data.Dataset.Users.External(U);
        UserEvent[] events = [.. data.Traffic(U, U + 1).Select(t => new UserEvent(t.Event.EventId, t.Event.Item, t.Event.Timestamp, t.Event.Rating))];
        IUserGrain grain = cluster.Client.GetGrain<IUserGrain>(external);
        int expected = offline.Of(U).Length;
        Assert.True(expected > 2);

        FlakySink.FailAfterNextSave = 1;
        await Assert.ThrowsAnyAsync<Exception>(() => grain.Append(events));
        using LiberDatabase db = pg.Open();
        Assert.Equal(expected, db.Log.Count()); // written, not acknowledged: still in the outbox
        Assert.Equal(expected, (await grain.Outbox()).Length);

        AppendResult again = await grain.Append(events);
        Assert.Equal((0, events.Length), (again.Applied, again.Duplicates));
        Assert.Empty(await grain.Outbox());
        Assert.Equal(expected, db.Log.Count());
        Assert.Equal(expected, db.Jobs.PendingJobs());
        Assert.Equal(
            offline.Of(U).ToArray().Select(Ml100kSlice.Key),
            db.Log.Partitions(db.Log.FindUser(external)!.Value).Select(c => Ml100kSlice.Key(c.Partition)));
    }

    [PostgresFact("ml-100k")]
    public async Task An_outbox_left_by_a_failed_drain_is_drained_when_the_grain_is_activated_again()
    {
        Ml100kSlice data = ClusterFixture.Data;
        using var pg = new PgScratch();
        await using InProcessTestCluster cluster = await Start(pg, data.Settings, flaky: true);
        PartitionSet offline = data.Batch();
        int u = Enumerable.Range(50, 50).MaxBy(u => offline.Of(u).Length);
        string external = data.Dataset.Users.External(u);
        UserEvent[] events = [.. data.Traffic(u, u + 1).Select(t => new UserEvent(t.Event.EventId, t.Event.Item, t.Event.Timestamp, t.Event.Rating))];
        IUserGrain grain = cluster.Client.GetGrain<IUserGrain>(external);

        FlakySink.FailBeforeNextSave = 1; // the database is unreachable for this drain
        await Assert.ThrowsAnyAsync<Exception>(() => grain.Append(events));
        using LiberDatabase db = pg.Open();
        Assert.Equal(0, db.Log.Count());
        Assert.Equal(offline.Of(u).Length, (await grain.Outbox()).Length);

        // Every idle activation is collected; the next call activates the grain again, and activation drains.
        await cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        UserSnapshot s = await grain.Snapshot();
        Assert.Equal((0, events.Length), (s.Outbox, s.Applied));
        Assert.Equal(offline.Of(u).ToArray().Select(Ml100kSlice.Key), db.Log.Partitions(s.DenseId).Select(c => Ml100kSlice.Key(c.Partition)));
    }

    private static async Task<InProcessTestCluster> Start(PgScratch pg, UbspSettings settings, bool flaky = false)
    {
        InProcessTestCluster cluster = ClusterFactory.Build(settings, silo =>
        {
            silo.AddMemoryGrainStorage(ClusterHosting.StorageName);
            silo.AddLiberPostgresTables(pg.ConnectionString);
            if (flaky)
            {
                silo.Services.AddSingleton<IPartitionSink>(sp => new FlakySink(sp.GetRequiredService<LiberDatabase>().Log));
            }
        });
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>The real sink, which can be told to fail once before its write (database unreachable) or right after it (a silo dying before the acknowledgement).</summary>
    private sealed class FlakySink(IPartitionSink inner) : IPartitionSink
    {
        public static int FailAfterNextSave;

        public static int FailBeforeNextSave;

        public Task<int> RegisterUserAsync(string external) => inner.RegisterUserAsync(external);

        public async Task SaveAsync(IReadOnlyList<ClosedPartition> partitions)
        {
            if (Interlocked.Exchange(ref FailBeforeNextSave, 0) == 1)
            {
                throw new InvalidOperationException("injected: the database is unreachable");
            }

            await inner.SaveAsync(partitions);
            if (Interlocked.Exchange(ref FailAfterNextSave, 0) == 1)
            {
                throw new InvalidOperationException("injected: the silo died after the database write");
            }
        }
    }
}
