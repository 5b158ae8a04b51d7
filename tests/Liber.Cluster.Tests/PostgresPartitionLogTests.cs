using Liber.Cluster.Postgres;
using Liber.Core.Partitioning;
using Liber.Core.Storage;

namespace Liber.Cluster.Tests;

/// <summary>Liber's tables in PostgreSQL: the schema script, write-once partitions with their jobs, external user ids.</summary>
public sealed class PostgresPartitionLogTests
{
    /// <summary>A closed partition of <paramref name="count"/> events of user <paramref name="user"/> (ids from <paramref name="firstId"/>).</summary>
    internal static ClosedPartition Closed(int user, int number, int count = 3, long firstId = -1, float rating = 4f)
    {
        long from = firstId >= 0 ? firstId : (user * 1000L) + (number * 10L);
        PartitionEvent[] events = [.. Enumerable.Range(0, count).Select(i => new PartitionEvent(from + i, (number + i) % 7, 100 + (number * 10) + i, rating))];
        int start = number * count;
        return new ClosedPartition(new Partition(user, number, start, start + count - 1, events[0].Timestamp, events[^1].Timestamp, [.. events.Select(e => e.EventId)], 5 * count, Partition.Hash(events)), events);
    }

    [PostgresFact]
    public void The_schema_script_is_idempotent_and_a_database_of_another_schema_version_is_refused()
    {
        using var pg = new PgScratch();
        using (LiberDatabase db = pg.Open())
        {
            Assert.Equal(0, db.Jobs.PendingJobs());
        }

        using (LiberDatabase again = pg.Open())
        {
            Assert.Equal(0, again.Log.Count());
        }

        Assert.Equal(8, pg.Scalar($"SELECT count(*) FROM information_schema.tables WHERE table_schema = '{pg.Schema}' AND table_name LIKE 'liber_%'"));
        PgScratch.Execute(pg.ConnectionString, "UPDATE liber_meta SET value = '9' WHERE key = 'schema'");
        var e = Assert.Throws<InvalidOperationException>(() => pg.Open());
        Assert.Contains("Liber schema 9", e.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task Partitions_are_write_once_with_a_pending_job_each_and_a_second_identical_write_is_a_no_op()
    {
        using var pg = new PgScratch();
        using LiberDatabase db = pg.Open();
        ClosedPartition[] alice = [Closed(0, 0), Closed(0, 1), Closed(0, 2, count: 5)];
        await db.Log.SaveAsync(alice);
        await db.Log.SaveAsync([alice[1], alice[2]]); // a drain repeated after a crash before the acknowledgement
        Assert.Equal(3, db.Log.Count());
        Assert.Equal(3, db.Jobs.PendingJobs());

        IReadOnlyList<ClosedPartition> stored = db.Log.Partitions(0);
        Assert.Equal(alice.Select(c => c.Partition.ContentHash), stored.Select(c => c.Partition.ContentHash));
        Assert.Equal(alice[2].Events, stored[2].Events);
        Assert.Equal(alice[2].Partition.EventIds, stored[2].Partition.EventIds);
        Assert.Equal((alice[2].Partition.Start, alice[2].Partition.End, alice[2].Partition.PromptTokens), (stored[2].Partition.Start, stored[2].Partition.End, stored[2].Partition.PromptTokens));

        IReadOnlyList<InterestJob> jobs = db.Jobs.Jobs(0);
        Assert.All(jobs, j => Assert.Equal((InterestJobStatus.Pending, 0, (string?)null), (j.Status, j.Attempts, j.Summary)));
        Assert.Equal(alice[1].Events, jobs[1].Events);

        // Other content under the same key is an error, and nothing of that transaction is kept.
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => db.Log.SaveAsync([Closed(1, 0), Closed(0, 1, rating: 2f)]));
        Assert.Contains("partition 1 of user 0 is already stored with other content", e.Message, StringComparison.Ordinal);
        Assert.Contains(alice[1].Partition.ContentHash, e.Message, StringComparison.Ordinal);
        Assert.Empty(db.Log.Partitions(1));
        Assert.Equal([0, 1, 2], db.Log.AllPartitions().Select(p => p.Number));
    }

    [PostgresFact]
    public async Task External_user_ids_get_dense_ids_from_the_database_once_each()
    {
        using var pg = new PgScratch();
        using LiberDatabase db = pg.Open();
        Assert.Equal(0, await db.Log.RegisterUserAsync("alice"));
        Assert.Equal(1, await db.Log.RegisterUserAsync("bob"));
        Assert.Equal(0, await db.Log.RegisterUserAsync("alice")); // a first write that failed after recording: the id stays
        Assert.Equal((int?)1, db.Log.FindUser("bob"));
        Assert.Null(db.Log.FindUser("carol"));
        Assert.Equal("alice", db.Log.UserName(0));
        Assert.Equal(2, db.Log.KnownUsers());
        Assert.Throws<ArgumentOutOfRangeException>(() => db.Log.UserName(2));

        // Ids written before the sequence (a schema-1 database, ids from the user-id grain) are skipped, never handed out twice.
        PgScratch.Execute(pg.ConnectionString, "INSERT INTO liber_users(user_id, external) VALUES (2, 'old-2'), (3, 'old-3')");
        Assert.Equal(4, await db.Log.RegisterUserAsync("carol"));

        // Concurrent first sights of many users from several pools (silos): one id per user, all distinct.
        using LiberDatabase other = pg.Open();
        string[] names = [.. Enumerable.Range(0, 200).Select(i => $"u{i}")];
        int[][] ids = await Task.WhenAll(new[] { db, other, db, other }.Select(d => Task.WhenAll(names.Select(n => Task.Run(() => d.Log.RegisterUserAsync(n))))));
        Assert.All(ids, run => Assert.Equal(ids[0], run));
        Assert.Equal(names.Length, ids[0].Distinct().Count());
        Assert.DoesNotContain(ids[0], id => id is >= 0 and <= 4);
    }
}
