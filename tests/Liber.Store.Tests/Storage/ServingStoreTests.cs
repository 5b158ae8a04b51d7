using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Tests.Readers;
using Liber.Core.Tests.Streams;
using Microsoft.Data.Sqlite;

namespace Liber.Store.Tests;

/// <summary>The serving side of the store: external ids, the item catalog and the interest job queue.</summary>
public sealed class ServingStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private sealed class LengthTokens : ITokenCounter
    {
        public string Name => "length";

        public int Count(string text) => text.Length / 4;
    }

    private string File => Path.Combine(_dir.Path, "serve.db");

    private SqlitePartitionStore Open(int k = 3, int maxTokens = 4000) =>
        SqlitePartitionStore.OpenServing(File, new CountPolicy(k), new PartitionCaps { MaxEvents = 100, MaxPromptTokens = maxTokens }, new LengthTokens(), new SqliteStoreOptions { Durability = Durability.Normal });

    private static ExternalEvent[] Events(string user, int from, int count, string item = "i") =>
        [.. Enumerable.Range(from, count).Select(i => new ExternalEvent(user.GetHashCode(StringComparison.Ordinal) * 1000L + i, user, $"{item}{i % 4}", 100 + i, i % 5))];

    [Fact]
    public async Task External_ids_and_bare_items_are_assigned_on_first_sight_and_survive_a_crash()
    {
        using (SqlitePartitionStore s = Open())
        {
            await s.AppendAsync(Events("alice", 0, 4));
            await s.AppendAsync(Events("bob", 0, 2));
            Assert.Equal(0, s.FindUser("alice"));
            Assert.Equal(1, s.FindUser("bob"));
            Assert.Null(s.FindUser("carol"));
            Assert.Equal("bob", s.UserName(1));
            Assert.Equal(4, s.CatalogCount);
            Assert.Equal("i2", s.FindItemMetadata("i2")!.Title);
            s.CloseWithoutCheckpoint();
        }

        using (SqlitePartitionStore s = Open())
        {
            Assert.Equal(6, s.Totals().EventsApplied);
            Assert.Equal(1, s.FindUser("bob"));
            Assert.Equal(4, s.CatalogCount);
            Assert.Empty(s.Verify());
            AppendResult again = await s.AppendAsync(Events("alice", 0, 4));
            Assert.Equal(4, again.Duplicates);
        }
    }

    [Fact]
    public async Task Every_closed_partition_has_a_pending_job_with_its_events_written_in_the_same_commit()
    {
        using (SqlitePartitionStore s = Open())
        {
            AppendResult r = await s.AppendAsync(Events("alice", 0, 10));
            Assert.Equal(3, r.Closed.Count);
            Assert.Equal(3, s.PendingJobs());
            IReadOnlyList<InterestJob> jobs = s.Jobs(0);
            Assert.Equal([0, 1, 2], jobs.Select(j => j.Partition.Number));
            Assert.All(jobs, j => Assert.Equal(InterestJobStatus.Pending, j.Status));
            Assert.Equal(jobs[1].Partition.EventIds, jobs[1].Events.Select(e => e.EventId));
            Assert.Equal([103L, 104, 105], jobs[1].Events.Select(e => e.Timestamp));
            Assert.Equal([s.FindItem("i3")!.Value, s.FindItem("i0")!.Value, s.FindItem("i1")!.Value], jobs[1].Events.Select(e => e.Item));
            s.CloseWithoutCheckpoint();
        }

        using (SqlitePartitionStore s = Open())
        {
            Assert.Equal(3, s.PendingJobs());
            Assert.Equal(s.Partitions(0).Select(p => p.ContentHash), s.Jobs(0).Select(j => j.Partition.ContentHash));
        }
    }

    [Fact]
    public async Task Leases_follow_the_cascade_and_failures_back_off_then_block_the_later_partitions()
    {
        using SqlitePartitionStore s = Open();
        await s.AppendAsync([.. Events("alice", 0, 9), .. Events("bob", 0, 3)]);
        IReadOnlyList<JobLease> l = s.Lease(10, 10, nowMs: 1000, leaseMs: 500);
        Assert.Equal([new JobLease(0, 0, 2, 0), new JobLease(1, 0, 0, 0)], l);
        Assert.Empty(s.Lease(10, 10, 1100, 500)); // leased
        float[] v = [1f, 2f];
        s.Record([new JobOutcome(0, 0, InterestJobStatus.Done, "s0", null, v, [0f, 0f]), new JobOutcome(0, 1, InterestJobStatus.Pending, Error: "timeout", RetryAt: 5000), new JobOutcome(1, 0, InterestJobStatus.Done, "b0", null, v, v)]);
        Assert.Empty(s.Lease(10, 10, 2000, 500)); // alice's partition 1 waits for its retry time, bob is done
        Assert.Equal([new JobLease(0, 1, 2, 1)], s.Lease(10, 1 + 1, 5000, 500));
        s.Record([new JobOutcome(0, 1, InterestJobStatus.Failed, Error: "gave up")]);
        Assert.Empty(s.Lease(10, 10, 99_999, 500)); // a failed partition blocks the later ones
        IReadOnlyList<InterestJob> jobs = s.Jobs(0);
        Assert.Equal([InterestJobStatus.Done, InterestJobStatus.Failed, InterestJobStatus.Pending], jobs.Select(j => j.Status));
        Assert.Equal(("s0", 2), (jobs[0].Summary, jobs[1].Attempts));
        Assert.Equal(v, jobs[0].SummaryVector);
        Assert.Equal("gave up", jobs[1].Error);
        Assert.Equal(1, s.PendingJobs());
        Assert.Throws<ArgumentException>(() => s.Record([new JobOutcome(7, 0, InterestJobStatus.Done)]));
    }

    [Fact]
    public async Task A_reopened_store_frees_the_leases_of_a_dead_process()
    {
        using (SqlitePartitionStore s = Open())
        {
            await s.AppendAsync(Events("alice", 0, 3));
            Assert.Single(s.Lease(10, 10, 1000, 3_600_000));
            s.CloseWithoutCheckpoint();
        }

        using (SqlitePartitionStore s = Open())
        {
            Assert.Single(s.Lease(10, 10, 1001, 1000));
        }
    }

    [Fact]
    public async Task A_catalog_change_checkpoints_so_that_recovery_replays_under_the_features_it_was_applied_with()
    {
        using (SqlitePartitionStore s = Open(k: 100, maxTokens: 40))
        {
            await s.AppendAsync(Events("alice", 0, 2));
            // Longer titles: more tokens per line, so the token cap closes partitions sooner from here on.
            Assert.Equal(4, s.UpsertItems([.. Enumerable.Range(0, 4).Select(i => new ItemMetadata($"i{i}", new string('x', 60), 1999, ["Drama"], [], null))]));
            Assert.Equal(0, s.UpsertItems([new ItemMetadata("i0", new string('x', 60), 1999, ["Drama"], [], null)]));
            await s.AppendAsync(Events("alice", 2, 6));
            Assert.NotEmpty(s.Partitions(0));
            s.CloseWithoutCheckpoint();
        }

        using (SqlitePartitionStore s = Open(k: 100, maxTokens: 40))
        {
            Assert.Empty(s.Verify());
            Assert.Equal("Drama", s.FindItemMetadata("i3")!.Categories.Single());
            Assert.Equal(s.Partitions(0).Count, s.Jobs(0).Count);
        }
    }

    [Fact]
    public void A_store_of_the_previous_schema_is_refused_with_a_clear_message()
    {
        using (var db = new SqliteConnection($"Data Source={File};Pooling=False"))
        {
            db.Open();
            using SqliteCommand c = db.CreateCommand();
            c.CommandText = "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID; INSERT INTO meta VALUES ('schema', '1');";
            c.ExecuteNonQuery();
        }

        var e = Assert.Throws<ArgumentException>(() => Open());
        Assert.Contains("schema 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_opened_with_fixed_item_features_takes_no_external_ids()
    {
        var ds = StreamFixtures.Random(3, users: 2, maxEvents: 5, timeSpread: 100);
        using var s = SqlitePartitionStore.Open(File, new CountPolicy(2), new PartitionCaps(), ItemFeatures.Build(ds, new LengthTokens()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => s.AppendAsync(Events("a", 0, 1)));
        Assert.Throws<InvalidOperationException>(() => s.UpsertItems([]));
    }
}
