using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Core.Tests.Readers;
using Liber.Core.Tests.Streams;

namespace Liber.Store.Tests;

public sealed class SqlitePartitionStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    private sealed class FixedTokens(int perLine) : ITokenCounter
    {
        public string Name => "fixed";

        public int Count(string text) => perLine;
    }

    public void Dispose() => _dir.Dispose();

    private static (UserStreams Streams, ItemFeatures Features) Fixture(Dataset ds) =>
        (UserStreams.Build(ds), ItemFeatures.Build(ds, new FixedTokens(10)));

    private static readonly PartitionCaps Caps = new() { MaxEvents = 9, MaxPromptTokens = 1000 };

    private static IPartitionPolicy[] Policies() =>
        [new CountPolicy(4), new GapPolicy(5), new WindowPolicy(CalendarPeriod.Day), new DriftPolicy(3, 0.1)];

    private static string Key(Partition p) => $"{p.User}/{p.Number} [{p.Start},{p.End}] {p.StartTime}-{p.EndTime} {p.PromptTokens} {p.ContentHash} {string.Join(',', p.EventIds)}";

    private static string[] Keys(IEnumerable<Partition> ps) => [.. ps.Select(Key)];

    [Fact]
    public void Replaying_a_data_set_through_the_store_in_any_batch_size_with_reopens_and_crashes_gives_the_batch_partitions()
    {
        var (streams, features) = Fixture(StreamFixtures.Random(11, users: 12, maxEvents: 80, timeSpread: 400000));
        int[] order = StoreFeeder.GlobalOrder(streams);
        var rng = new Random(5);
        foreach (IPartitionPolicy policy in Policies())
        {
            PartitionSet batch = PartitionSet.Build(streams, policy, Caps, features);
            string file = _dir.File($"{policy.Name}.db");
            var store = SqlitePartitionStore.Open(file, policy, Caps, features, new SqliteStoreOptions { CheckpointEvents = 37 });
            int k = 0;
            while (k < order.Length)
            {
                int n = Math.Min(order.Length - k, 1 + rng.Next(60));
                var events = order.Skip(k).Take(n).Select(row => new StoreEvent(streams.UserOfRow(row), streams.Positions[row], streams.Items[row], streams.Timestamps[row], streams.Ratings[row])).ToList();
                AppendResult r = store.Append(events);
                Assert.Equal(n, r.Applied);
                k += n;
                switch (rng.Next(6))
                {
                    case 0:
                        store.Dispose();
                        store = SqlitePartitionStore.Open(file, policy, Caps, features);
                        break;
                    case 1:
                        store.CloseWithoutCheckpoint();
                        store = SqlitePartitionStore.Open(file, policy, Caps, features, new SqliteStoreOptions { CheckpointEvents = 37 });
                        Assert.True(store.Replayed <= 37 + 60);
                        break;
                }
            }

            Assert.Equal(Keys(batch.All), Keys(store.AllPartitions()));
            for (int u = 0; u < streams.UserCount; u++)
            {
                Assert.Equal(batch.CacheSizes[u], store.State(u)!.Cache.Length);
                Assert.Equal(streams.Length(u), store.State(u)!.NextIndex);
            }

            Assert.Empty(store.Verify());
            store.Dispose();
        }
    }

    [Fact]
    public void Appending_the_same_events_again_is_a_no_op_and_a_reused_id_of_another_user_is_a_conflict()
    {
        var (streams, features) = Fixture(StreamFixtures.Random(3, users: 4, maxEvents: 40));
        using var store = SqlitePartitionStore.Open(_dir.File("dup.db"), new CountPolicy(5), Caps, features);
        FeedProgress first = StoreFeeder.Feed(streams, store, batchSize: 16);
        string[] before = Keys(store.AllPartitions());
        FeedProgress again = StoreFeeder.Feed(streams, store, batchSize: 7);

        Assert.Equal(streams.EventCount, first.Applied);
        Assert.Equal(0, again.Applied);
        Assert.Equal(streams.EventCount, again.Duplicates);
        Assert.Equal(before, Keys(store.AllPartitions()));

        var e = new StoreEvent(0, 900_001, 1, 5000, 4);
        AppendResult twiceInOneBatch = store.Append([e, e]);
        Assert.Equal((1, 1), (twiceInOneBatch.Applied, twiceInOneBatch.Duplicates));

        AppendResult otherUser = store.Append([e with { User = 1 }]);
        Assert.Empty(otherUser.Rejected);
        RejectedEvent conflict = Assert.Single(otherUser.Conflicts);
        Assert.Contains("already applied as (user 0, item 1, at 5000, rating 4); this one is (user 1,", conflict.Reason, StringComparison.Ordinal);
        Assert.Equal(streams.EventCount + 1, store.Totals().EventsApplied);
        Assert.True(store.IsApplied(900_001));
        Assert.Empty(store.Verify());
    }

    [Fact]
    public void Late_events_are_rejected_by_default_with_a_reason()
    {
        var (_, features) = Fixture(StreamFixtures.Random(3, users: 2, maxEvents: 10));
        using var store = SqlitePartitionStore.Open(_dir.File("late.db"), new CountPolicy(3), Caps, features);
        store.Append([new StoreEvent(0, 1, 0, 100, 4), new StoreEvent(0, 2, 1, 200, 4)]);

        AppendResult r = store.Append([new StoreEvent(0, 3, 2, 150, 4), new StoreEvent(0, 4, 2, 200, 4)]);

        Assert.Equal(1, r.Applied);
        RejectedEvent late = Assert.Single(r.Rejected);
        Assert.Equal((0, 3L), (late.Index, late.EventId));
        Assert.Contains("older than the user's last event at 200", late.Reason, StringComparison.Ordinal);
        Assert.False(store.IsApplied(3));

        // K = 3 closed 1, 2, 4; the rejected event is not recorded anywhere.
        Assert.Equal([1L, 2, 4], Assert.Single(store.AllPartitions()).EventIds);
        Assert.Empty(store.Verify());
    }

    [Fact]
    public void Late_events_join_the_cache_when_it_spans_their_time_and_never_touch_closed_partitions()
    {
        var (_, features) = Fixture(StreamFixtures.Random(3, users: 2, maxEvents: 10));
        var options = new SqliteStoreOptions { LateEvents = LateEventRule.InsertIfCacheSpans };
        string file = _dir.File("insert.db");
        using (var store = SqlitePartitionStore.Open(file, new CountPolicy(3), Caps, features, options))
        {
            // Partition 0 = events 1..3 (t 100..300); cache = event 4 (t 400), event 5 (t 500).
            store.Append([new(0, 1, 0, 100, 4), new(0, 2, 1, 200, 4), new(0, 3, 2, 300, 4), new(0, 4, 3, 400, 4), new(0, 5, 4, 500, 4)]);
            string[] closedBefore = Keys(store.AllPartitions());

            AppendResult spans = store.Append([new StoreEvent(0, 6, 5, 450, 3)]);
            Assert.Equal(1, spans.Applied);

            // The insert filled the cache to K = 3: it closes in time order 400, 450, 500.
            Partition p = Assert.Single(spans.Closed);
            Assert.Equal([4L, 6, 5], p.EventIds);
            Assert.Equal((3, 5, 400L, 500L), (p.Start, p.End, p.StartTime, p.EndTime));

            AppendResult tooOld = store.Append([new StoreEvent(0, 7, 1, 250, 3)]);
            Assert.Contains("closed partitions are immutable", Assert.Single(tooOld.Rejected).Reason, StringComparison.Ordinal);
            Assert.Equal(closedBefore.Concat([Key(p)]), Keys(store.AllPartitions()));
        }

        // The late insert replays identically after reopening (the log records how each event was applied).
        using var reopened = SqlitePartitionStore.Open(file, new CountPolicy(3), Caps, features);
        Assert.Empty(reopened.Verify());
        Assert.Equal(6, reopened.State(0)!.NextIndex);
    }

    [Fact]
    public void A_store_refuses_other_settings_and_bad_events()
    {
        var (_, features) = Fixture(StreamFixtures.Random(3, users: 2, maxEvents: 10));
        string file = _dir.File("settings.db");
        using (var store = SqlitePartitionStore.Open(file, new CountPolicy(3), Caps, features))
        {
            AppendResult r = store.Append([new StoreEvent(0, 1, features.ItemCount, 100, 4), new StoreEvent(-1, 2, 0, 100, 4), new StoreEvent(0, 3, 0, 100, float.NaN)]);
            Assert.Equal(0, r.Applied);
            Assert.Equal(["not in the catalog", "negative", "not a finite number"], r.Rejected.Select(x => x.Reason.Contains("catalog", StringComparison.Ordinal) ? "not in the catalog" : x.Reason.Contains("negative", StringComparison.Ordinal) ? "negative" : x.Reason.Contains("finite", StringComparison.Ordinal) ? "not a finite number" : x.Reason));
        }

        var e = Assert.Throws<ArgumentException>(() => SqlitePartitionStore.Open(file, new CountPolicy(4), Caps, features));
        Assert.Contains("count(k=3)", e.Message, StringComparison.Ordinal);
        Assert.Throws<DirectoryNotFoundException>(() => SqlitePartitionStore.Open(Path.Combine(_dir.Path, "nope", "x.db"), new CountPolicy(3), Caps, features));
    }

    [Fact]
    public void Normal_durability_gives_the_same_store()
    {
        var (streams, features) = Fixture(StreamFixtures.Random(8, users: 5, maxEvents: 40));
        using var full = SqlitePartitionStore.Open(_dir.File("full.db"), new CountPolicy(4), Caps, features);
        using var normal = SqlitePartitionStore.Open(_dir.File("normal.db"), new CountPolicy(4), Caps, features, new SqliteStoreOptions { Durability = Durability.Normal });
        StoreFeeder.Feed(streams, full, 10);
        StoreFeeder.Feed(streams, normal, 33);
        Assert.Equal(Keys(full.AllPartitions()), Keys(normal.AllPartitions()));
        Assert.Equal(full.Totals(), normal.Totals());
    }

    [Fact]
    public async Task Group_commit_in_flight_batches_gives_the_batch_partitions_and_acknowledges_in_order()
    {
        var (streams, features) = Fixture(StreamFixtures.Random(21, users: 10, maxEvents: 80, timeSpread: 100000));
        var policy = new CountPolicy(4);
        PartitionSet batch = PartitionSet.Build(streams, policy, Caps, features);
        string file = _dir.File("group.db");
        var acks = new List<long>();
        using (var store = SqlitePartitionStore.Open(file, policy, Caps, features))
        {
            FeedProgress p = await StoreFeeder.FeedAsync(streams, store, batchSize: 7, inFlight: 8, onBatch: x => acks.Add(x.Events));
            Assert.Equal(streams.EventCount, p.Applied);
            Assert.Equal(Keys(batch.All), Keys(store.AllPartitions()));

            // Every acknowledged batch is durable when acknowledged, in feed order.
            Assert.Equal(acks.Order(), acks);
            Assert.Equal(streams.EventCount, acks[^1]);

            // Concurrent producers: the same events again from several tasks are all duplicates.
            int[] order = StoreFeeder.GlobalOrder(streams);
            var tasks = order.Chunk(13).Select(rows => store.AppendAsync([.. rows.Select(row => new StoreEvent(streams.UserOfRow(row), streams.Positions[row], streams.Items[row], streams.Timestamps[row], streams.Ratings[row]))])).ToArray();
            AppendResult[] again = await Task.WhenAll(tasks);
            Assert.Equal(streams.EventCount, again.Sum(r => r.Duplicates));
            Assert.Equal(0, again.Sum(r => r.Applied));
        }

        // Queued batches were drained before the store closed.
        using var reopened = SqlitePartitionStore.Open(file, policy, Caps, features);
        Assert.Equal(Keys(batch.All), Keys(reopened.AllPartitions()));
        Assert.Empty(reopened.Verify());
        Assert.Throws<ObjectDisposedException>(() =>
        {
            var s = SqlitePartitionStore.Open(_dir.File("closed.db"), policy, Caps, features);
            s.Dispose();
            s.Append([]);
        });
    }
}
