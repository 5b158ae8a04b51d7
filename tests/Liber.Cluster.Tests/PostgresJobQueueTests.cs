using System.Collections.Concurrent;
using Liber.Cluster.Postgres;
using Liber.Core.Storage;
using static Liber.Cluster.Tests.PostgresPartitionLogTests;

namespace Liber.Cluster.Tests;

/// <summary>
/// The interest job queue over PostgreSQL, with the SQLite store's expectations (tests/Liber.Store.Tests:
/// ServingStoreTests, StoreRoleTests) and what a shared queue adds: leases by time, concurrent leasers never overlap.
/// </summary>
public sealed class PostgresJobQueueTests
{
    [PostgresFact]
    public async Task Leases_follow_the_cascade_and_failures_back_off_then_block_the_later_partitions()
    {
        using var pg = new PgScratch();
        using LiberDatabase db = pg.Open();
        await db.Log.SaveAsync([Closed(0, 0), Closed(0, 1), Closed(0, 2), Closed(1, 0)]);
        PostgresJobQueue s = db.Jobs;
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
        Assert.Equal([0f, 0f], jobs[0].ShiftVector!);
        Assert.Null(jobs[0].Shift);
        Assert.Equal("gave up", jobs[1].Error);
        Assert.Equal(1, s.PendingJobs());
        Assert.Throws<ArgumentException>(() => s.Record([new JobOutcome(7, 0, InterestJobStatus.Done)]));
    }

    [PostgresFact]
    public async Task Leases_go_to_due_users_in_user_order_up_to_the_caps_and_a_failed_first_job_blocks_its_user()
    {
        using var pg = new PgScratch();
        using LiberDatabase db = pg.Open();
        foreach ((int user, int number) in new[] { (3, 0), (3, 1), (3, 2), (3, 3), (1, 0), (1, 1), (2, 0), (2, 1) })
        {
            await db.Log.SaveAsync([Closed(user, number)]);
        }

        PostgresJobQueue jobs = db.Jobs;
        jobs.Record([new JobOutcome(2, 0, InterestJobStatus.Failed, Error: "gave up")]);
        Assert.Equal(7, jobs.PendingJobs());
        Assert.Equal([new JobLease(1, 0, 1, 0)], jobs.Lease(maxUsers: 1, maxPerUser: 3, nowMs: 1000, leaseMs: 500));
        Assert.Equal([new JobLease(3, 0, 2, 0)], jobs.Lease(maxUsers: 1, maxPerUser: 3, nowMs: 1000, leaseMs: 500));
        Assert.Empty(jobs.Lease(maxUsers: 10, maxPerUser: 3, nowMs: 1499, leaseMs: 500)); // both leased, user 2 blocked
        Assert.Equal([new JobLease(1, 0, 1, 0), new JobLease(3, 0, 3, 0)], jobs.Lease(maxUsers: 10, maxPerUser: 10, nowMs: 1500, leaseMs: 500));
    }

    [PostgresFact]
    public async Task A_lease_of_a_dead_silo_ends_with_its_time_and_texts_and_vectors_are_written_once()
    {
        using var pg = new PgScratch();
        using LiberDatabase silo1 = pg.Open(), silo2 = pg.Open();
        await silo1.Log.SaveAsync([Closed(5, 0), Closed(5, 1)]);
        Assert.Equal([new JobLease(5, 0, 1, 0)], silo1.Jobs.Lease(10, 10, 1000, 60_000));
        Assert.Empty(silo2.Jobs.Lease(10, 10, 60_999, 1000)); // held until 61,000
        Assert.Equal([new JobLease(5, 0, 1, 0)], silo2.Jobs.Lease(10, 10, 61_000, 1000));

        // Both silos finish partition 0: the first outcome stays, the later one (and a late failure) is ignored.
        silo2.Jobs.Record([new JobOutcome(5, 0, InterestJobStatus.Done, "first", null, [1f], [0f])]);
        silo1.Jobs.Record([new JobOutcome(5, 0, InterestJobStatus.Done, "second", "shift", [2f], [2f]), new JobOutcome(5, 0, InterestJobStatus.Failed, Error: "late")]);
        InterestJob job = silo1.Jobs.Jobs(5)[0];
        Assert.Equal((InterestJobStatus.Done, "first", (string?)null, 0, (string?)null), (job.Status, job.Summary, job.Shift, job.Attempts, job.Error));
        Assert.Equal([1f], job.SummaryVector!);
        Assert.Equal(1, silo1.Jobs.PendingJobs());
        Assert.Throws<ArgumentOutOfRangeException>(() => silo1.Jobs.Lease(0, 10, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => silo1.Jobs.Lease(1, 0, 0, 1));
    }

    [PostgresFact]
    public async Task Concurrent_leasers_never_hold_the_same_user_and_finish_every_user_in_cascade_order()
    {
        const int Users = 120, PerUser = 4, Workers = 6;
        using var pg = new PgScratch();
        using LiberDatabase seed = pg.Open();
        await seed.Log.SaveAsync([.. Enumerable.Range(0, Users).SelectMany(u => Enumerable.Range(0, PerUser).Select(n => Closed(u, n)))]);
        var held = new ConcurrentDictionary<int, int>();
        var done = new ConcurrentQueue<(int User, int Number)>();
        int overlaps = 0, leases = 0;
        var start = new Barrier(Workers);

        void Work(int w)
        {
            using LiberDatabase db = pg.Open(); // a silo of its own (its own connection pool)
            var rng = new Random(w);
            start.SignalAndWait();
            while (db.Jobs.PendingJobs() > 0)
            {
                // Small runs, so that a user is leased several times, by different workers.
                IReadOnlyList<JobLease> got = db.Jobs.Lease(maxUsers: 3, maxPerUser: 1 + rng.Next(2), nowMs: 1000, leaseMs: 3_600_000);
                foreach (JobLease l in got)
                {
                    Interlocked.Increment(ref leases);
                    if (!held.TryAdd(l.User, w))
                    {
                        Interlocked.Increment(ref overlaps);
                    }
                }

                var outcomes = new List<JobOutcome>();
                foreach (JobLease l in got)
                {
                    for (int n = l.First; n <= l.Last; n++)
                    {
                        done.Enqueue((l.User, n));
                        outcomes.Add(new JobOutcome(l.User, n, InterestJobStatus.Done, $"w{w}", null, [n], [0f]));
                    }

                    held.TryRemove(l.User, out _);
                }

                // The hold ends before the record commits: until that commit the user's jobs are leased and pending, so no one can lease them.
                db.Jobs.Record(outcomes);
                if (got.Count == 0)
                {
                    Thread.Sleep(2);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Factory.StartNew(() => Work(w), TaskCreationOptions.LongRunning)));
        Assert.Equal(0, overlaps);
        Assert.True(leases > Users, $"{leases} leases for {Users} users: users should have been leased more than once");
        (int User, int Number)[] all = [.. done];
        Assert.Equal(Users * PerUser, all.Length); // each partition handed out exactly once
        for (int u = 0; u < Users; u++)
        {
            Assert.Equal(Enumerable.Range(0, PerUser), all.Where(x => x.User == u).Select(x => x.Number)); // in cascade order
        }

        Assert.Equal(0, seed.Jobs.PendingJobs());
        Assert.All(seed.Jobs.Jobs(17), j => Assert.Equal(InterestJobStatus.Done, j.Status));
    }
}
