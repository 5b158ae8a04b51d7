using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Tests.Readers;
using Liber.Store;
using Microsoft.Data.Sqlite;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Liber.Cluster.Tests;

/// <summary>
/// Ingest through a 3-silo cluster equals the single-process store: every user of ml-100k (100,000 events), sent as live
/// traffic through the client and each silo in turn, close the same partitions (numbers, ranges, ids, content hashes)
/// as the SQLite store and as batch partitioning; a batch sent again through other silos is all duplicates.
/// </summary>
public sealed class ClusterIngestTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [RealDataFact("ml-100k")]
    public async Task Ingest_through_any_silo_equals_the_single_process_store_and_batch_partitioning()
    {
        Ml100kSlice data = ClusterFixture.Data;
        int Users = data.Streams.UserCount;
        List<(int User, ExternalEvent Event)> traffic = data.Traffic(0, Users);
        IReadOnlyList<IGrainFactory> entrances = fixture.Entrances;

        // The cluster: batches of 400 events, each through the next entrance (client, silo 0, 1, 2, client, ...).
        var closed = new List<Partition>();
        int applied = 0, batches = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (ExternalEvent[] batch in traffic.Select(t => t.Event).Chunk(400))
        {
            AppendResult r = await ClusterIngest.AppendAsync(entrances[batches++ % entrances.Count], batch);
            Assert.Equal(batch.Length, r.Applied);
            Assert.Equal(Enumerable.Range(0, batch.Length), r.AppliedIndices);
            Assert.True(r.Duplicates == 0 && r.Conflicts.Count == 0 && r.Rejected.Count == 0);
            applied += r.Applied;
            closed.AddRange(r.Closed);
        }

        double clusterSeconds = clock.Elapsed.TotalSeconds;

        // The single-process store, fed the same traffic with dense ids.
        using SqlitePartitionStore store = SqlitePartitionStore.Open(Path.Combine(_dir.Path, "single.db"), data.Settings.Policy, data.Settings.Caps, data.Settings.Features, new SqliteStoreOptions { Durability = Durability.Normal });
        int storeClosed = 0;
        clock.Restart();
        foreach ((int User, ExternalEvent Event)[] batch in traffic.Chunk(400))
        {
            AppendResult r = store.Append([.. batch.Select(t => new StoreEvent(t.User, t.Event.EventId, data.Settings.FindItem(t.Event.Item)!.Value, t.Event.Timestamp, t.Event.Rating))]);
            Assert.Equal(batch.Length, r.Applied);
            storeClosed += r.Closed.Count;
        }

        output.WriteLine($"{traffic.Count} events of {Users} users in batches of 400: 3-silo cluster (memory storage) {clusterSeconds:F2} s ({traffic.Count / clusterSeconds:F0} events/s), SQLite store {clock.Elapsed.TotalSeconds:F2} s ({traffic.Count / clock.Elapsed.TotalSeconds:F0} events/s)");
        PartitionSet offline = data.Batch();
        int total = 0;
        for (int u = 0; u < Users; u++)
        {
            string external = data.Dataset.Users.External(u);
            IUserGrain grain = entrances[u % entrances.Count].GetGrain<IUserGrain>(external);
            ClosedPartition[] outbox = await grain.Outbox();
            string[] cluster = [.. outbox.Select(c => Ml100kSlice.Key(c.Partition))];
            Assert.Equal([.. store.Partitions(u).Select(Ml100kSlice.Key)], cluster);
            Assert.Equal([.. offline.Of(u).ToArray().Select(Ml100kSlice.Key)], cluster);
            Assert.All(outbox, c => Assert.Equal(c.Partition.ContentHash, Partition.Hash(c.Events)));

            UserSnapshot s = await grain.Snapshot();
            Assert.Equal(data.Streams.Length(u), s.Applied);
            Assert.Equal(store.State(u)!.Cache, s.Cache);
            Assert.Equal(offline.CacheSizes[u], s.Cache.Length);
            Assert.Equal(data.Settings.Description, s.Policy);
            Assert.Equal(data.Settings.Description, store.Policy);
            total += outbox.Length;
        }

        Assert.Equal(traffic.Count, applied);
        Assert.Equal(storeClosed, closed.Count);
        Assert.Equal(storeClosed, total);
        Assert.True(total > 3 * Users, $"only {total} partitions for {Users} users: the slice should close several per user");
        Assert.Equal(
            closed.Select(Ml100kSlice.Key).Order(StringComparer.Ordinal),
            store.AllPartitions().Select(Ml100kSlice.Key).Order(StringComparer.Ordinal));
    }

    [RealDataFact("ml-100k")]
    public async Task The_same_batch_sent_twice_through_other_silos_is_all_duplicates()
    {
        Ml100kSlice data = ClusterFixture.Data;
        // Users of their own ("dup-" + id), so the whole-data-set ingest above and this test never share a grain.
        ExternalEvent[] traffic = [.. data.Traffic(150, 200).Select(t => t.Event with { User = "dup-" + t.Event.User })];
        ExternalEvent[][] batches = [.. traffic.Chunk(1000)];
        IReadOnlyList<IGrainFactory> entrances = fixture.Entrances;
        int closed = 0;
        for (int b = 0; b < batches.Length; b++)
        {
            AppendResult first = await ClusterIngest.AppendAsync(entrances[1 + (b % 3)], batches[b]);
            Assert.Equal(batches[b].Length, first.Applied);
            closed += first.Closed.Count;
        }

        string[] users = [.. traffic.Select(e => e.User).Distinct()];
        UserSnapshot[] before = await Task.WhenAll(users.Select(u => fixture.Cluster.Client.GetGrain<IUserGrain>(u).Snapshot()));
        for (int b = 0; b < batches.Length; b++)
        {
            // Each batch again, through another silo than the first time.
            AppendResult again = await ClusterIngest.AppendAsync(entrances[1 + ((b + 1) % 3)], batches[b]);
            Assert.Equal(0, again.Applied);
            Assert.Equal(batches[b].Length, again.Duplicates);
            Assert.Empty(again.Conflicts);
            Assert.Empty(again.Rejected);
            Assert.Empty(again.Closed);
        }

        UserSnapshot[] after = await Task.WhenAll(users.Select(u => fixture.Cluster.Client.GetGrain<IUserGrain>(u).Snapshot()));
        Assert.True(closed > 0);
        Assert.Equal(traffic.Length, after.Sum(s => s.Duplicates));
        Assert.Equal(closed, after.Sum(s => s.Outbox));
        for (int i = 0; i < users.Length; i++)
        {
            Assert.Equal((before[i].Applied, before[i].PartitionCount, before[i].LastTimestamp, before[i].Outbox), (after[i].Applied, after[i].PartitionCount, after[i].LastTimestamp, after[i].Outbox));
            Assert.Equal(before[i].Cache, after[i].Cache);
            Assert.Equal(0, before[i].Duplicates);
        }

        Assert.Equal(users.Length, after.Select(s => s.DenseId).Distinct().Count());
    }
    [RealDataFact("ml-100k")]
    public async Task A_failed_state_write_applies_nothing_of_the_batch_and_the_retry_applies_all_of_it()
    {
        IUserGrain grain = fixture.Cluster.Client.GetGrain<IUserGrain>("fault-test");
        UserEvent[] Events(int from, int count) =>
            [.. Enumerable.Range(from, count).Select(i => new UserEvent(90_000 + i, (1 + i).ToString(System.Globalization.CultureInfo.InvariantCulture), 1_000 + i, 4))];

        Assert.Equal(5, (await grain.Append(Events(0, 5))).Applied);
        UserSnapshot before = await grain.Snapshot();
        // The fault grain is keyed by the state name the grain persists under.
        await fixture.Cluster.Client.GetGrain<IStorageFaultGrain>("ubsp").AddFaultOnWrite(grain.GetGrainId(), new InvalidOperationException("injected write fault"));
        await Assert.ThrowsAnyAsync<Exception>(() => grain.Append(Events(5, 20)));

        UserSnapshot failed = await grain.Snapshot();
        Assert.Equal((before.Applied, before.PartitionCount, before.Outbox, before.Duplicates), (failed.Applied, failed.PartitionCount, failed.Outbox, failed.Duplicates));
        Assert.Equal(before.Cache, failed.Cache);
        Assert.Empty(await grain.Outbox());

        AppendResult retry = await grain.Append(Events(0, 25));
        Assert.Equal((20, 5), (retry.Applied, retry.Duplicates));
        Partition closed = Assert.Single(retry.Closed);
        Assert.Equal([.. Enumerable.Range(0, 20).Select(i => 90_000L + i)], closed.EventIds);
        Assert.Equal(Ml100kSlice.Key(closed), Ml100kSlice.Key((await grain.Outbox()).Single().Partition));
    }
    [RealDataFact("ml-100k")]
    public async Task A_mixed_batch_keeps_its_positions_and_rejects_invalid_user_ids_before_any_grain()
    {
        ExternalEvent[] batch =
        [
            new(95_000, "mixed-a", "1", 500, 3),
            new(95_001, "   ", "1", 500, 3),
            new(95_002, "mixed-b", "no-such-item", 500, 3),
            new(95_003, "mixed-a", "2", 501, 4),
            new(95_004, "mixed-b", "3", 502, 5),
        ];
        AppendResult r = await ClusterIngest.AppendAsync(fixture.Entrances[2], batch);
        Assert.Equal([0, 3, 4], r.AppliedIndices);
        Assert.Equal([1, 2], r.Rejected.Select(x => x.Index));
        Assert.StartsWith("user id must be", r.Rejected[0].Reason, StringComparison.Ordinal);
        Assert.Contains("'no-such-item' is not in the catalog", r.Rejected[1].Reason, StringComparison.Ordinal);
        Assert.Equal(2, (await fixture.Cluster.Client.GetGrain<IUserGrain>("mixed-a").Snapshot()).Applied);
    }
}
