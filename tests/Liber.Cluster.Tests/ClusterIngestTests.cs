using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Tests.Readers;
using Liber.Store;
using Microsoft.Data.Sqlite;

namespace Liber.Cluster.Tests;

/// <summary>
/// Ingest through a 3-silo cluster equals the single-process store: the first 150 users of ml-100k, sent as live
/// traffic through the client and each silo in turn, close the same partitions (numbers, ranges, ids, content hashes)
/// as the SQLite store and as batch partitioning; a batch sent again through other silos is all duplicates.
/// </summary>
public sealed class ClusterIngestTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>, IDisposable
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
        const int Users = 150;
        Ml100kSlice data = ClusterFixture.Data;
        List<(int User, ExternalEvent Event)> traffic = data.Traffic(0, Users);
        IReadOnlyList<IGrainFactory> entrances = fixture.Entrances;

        // The cluster: batches of 400 events, each through the next entrance (client, silo 0, 1, 2, client, ...).
        var closed = new List<Partition>();
        int applied = 0, batches = 0;
        foreach (ExternalEvent[] batch in traffic.Select(t => t.Event).Chunk(400))
        {
            AppendResult r = await ClusterIngest.AppendAsync(entrances[batches++ % entrances.Count], batch);
            Assert.Equal(batch.Length, r.Applied);
            Assert.Equal(Enumerable.Range(0, batch.Length), r.AppliedIndices);
            Assert.True(r.Duplicates == 0 && r.Conflicts.Count == 0 && r.Rejected.Count == 0);
            applied += r.Applied;
            closed.AddRange(r.Closed);
        }

        // The single-process store, fed the same traffic with dense ids.
        using SqlitePartitionStore store = SqlitePartitionStore.Open(Path.Combine(_dir.Path, "single.db"), data.Settings.Policy, data.Settings.Caps, data.Settings.Features, new SqliteStoreOptions { Durability = Durability.Normal });
        int storeClosed = 0;
        foreach ((int User, ExternalEvent Event)[] batch in traffic.Chunk(400))
        {
            AppendResult r = store.Append([.. batch.Select(t => new StoreEvent(t.User, t.Event.EventId, data.Settings.FindItem(t.Event.Item)!.Value, t.Event.Timestamp, t.Event.Rating))]);
            Assert.Equal(batch.Length, r.Applied);
            storeClosed += r.Closed.Count;
        }

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
        ExternalEvent[] traffic = [.. data.Traffic(150, 200).Select(t => t.Event)];
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
}
