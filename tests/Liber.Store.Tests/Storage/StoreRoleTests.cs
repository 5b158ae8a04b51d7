using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Tests.Readers;
using Microsoft.Data.Sqlite;

namespace Liber.Store.Tests;

/// <summary>The store's roles on their own, over one connection: the external id map and the interest job queue.</summary>
public sealed class StoreRoleTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly SqliteConnection _db;
    private readonly StoreContext _context;

    public StoreRoleTests()
    {
        string file = _dir.File("roles.db");
        _db = new SqliteConnection($"Data Source={file};Pooling=False");
        _db.Open();
        StoreRows.Execute(_db, ExternalIdMap.Schema + SqliteJobQueue.Schema);
        _context = new StoreContext(_db, file, this);
    }

    public void Dispose()
    {
        _db.Dispose();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public void User_ids_are_dense_in_order_of_first_sight_and_stay_pending_until_a_commit_saves_them()
    {
        var ids = new ExternalIdMap(_context);
        int[] assigned;
        lock (_context.IdsGate)
        {
            assigned = [.. new[] { "carol", "alice", "carol", "bob" }.Select(ids.GetOrAddLocked)];
        }

        Assert.Equal([0, 1, 0, 2], assigned);
        Assert.Equal(3, ids.Unsaved);
        using (SqliteTransaction failed = _db.BeginTransaction())
        {
            ids.SaveNew(failed);
            failed.Rollback(); // a failed group commit: the ids stay pending
        }

        Assert.Equal(3, ids.Unsaved);
        using (SqliteTransaction tx = _db.BeginTransaction())
        {
            ids.SaveNew(tx);
            tx.Commit();
        }

        ids.Committed();
        Assert.Equal(0, ids.Unsaved);

        var reloaded = new ExternalIdMap(_context);
        reloaded.Load();
        Assert.Equal(3, reloaded.Count);
        Assert.Equal(2, reloaded.Find("bob"));
        Assert.Null(reloaded.Find("dave"));
        Assert.Equal("alice", reloaded.Name(1));
        Assert.Equal("7", reloaded.Name(7));
        Assert.Equal("'carol'", reloaded.Label(0));
    }

    [Fact]
    public void Leases_go_to_due_users_in_user_order_up_to_the_caps_and_a_failed_first_job_blocks_its_user()
    {
        using var jobs = new SqliteJobQueue(_context);
        jobs.Open();
        using (SqliteTransaction tx = _db.BeginTransaction())
        {
            foreach ((int user, int number) in new[] { (3, 0), (3, 1), (3, 2), (3, 3), (1, 0), (1, 1), (2, 0), (2, 1) })
            {
                jobs.Save(tx, new Partition(user, number, number, number, 100 + number, 100 + number, [(user * 10L) + number], 1, "h"), [new PartitionEvent((user * 10L) + number, 0, 100 + number, 4f)]);
            }

            tx.Commit();
        }

        jobs.RecordLocked([new JobOutcome(2, 0, InterestJobStatus.Failed, Error: "gave up")]);
        Assert.Equal(7, jobs.Pending());
        Assert.Equal([new JobLease(1, 0, 1, 0)], jobs.LeaseLocked(maxUsers: 1, maxPerUser: 3, nowMs: 1000, leaseMs: 500));
        Assert.Equal([new JobLease(3, 0, 2, 0)], jobs.LeaseLocked(maxUsers: 1, maxPerUser: 3, nowMs: 1000, leaseMs: 500));
        Assert.Empty(jobs.LeaseLocked(maxUsers: 10, maxPerUser: 3, nowMs: 1499, leaseMs: 500)); // both leased, user 2 blocked
        Assert.Equal([new JobLease(1, 0, 1, 0), new JobLease(3, 0, 3, 0)], jobs.LeaseLocked(maxUsers: 10, maxPerUser: 10, nowMs: 1500, leaseMs: 500));
    }
}
