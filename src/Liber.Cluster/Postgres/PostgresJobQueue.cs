using Liber.Core.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Liber.Cluster.Postgres;

/// <summary>
/// The interest job queue of the cluster over PostgreSQL (<c>liber_interest_jobs</c>), shared by the nearline workers
/// of every silo. A user's run of pending partitions is leased only when every earlier partition is done (cascade
/// order); the lease is a <c>lease_until</c> time, taken in a transaction that locks the user's first open job with
/// <c>FOR UPDATE SKIP LOCKED</c>, so two silos never lease the same user's run at once. Leases end by time, not by a
/// restart (another silo may hold one): a dead silo's leases are free again once their time is past.
/// Outcomes for a job already done are ignored: texts and vectors are written once.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue; it implements IInterestJobQueue.")]
public sealed class PostgresJobQueue : IInterestJobQueue
{
    // Heads: a user's first open job, when pending, due and not leased. Locking the head row is what serialises two
    // leasers of one user: the second skips it while it is locked, and re-checks it (lease_until, status) after.
    private const string HeadsSql = """
        SELECT j.user_id, j.number, j.attempts FROM liber_interest_jobs j
        WHERE j.status = 0 AND j.retry_at <= @now AND j.lease_until <= @now
          AND NOT EXISTS (SELECT 1 FROM liber_interest_jobs e WHERE e.user_id = j.user_id AND e.number < j.number AND e.status <> 1)
        ORDER BY j.user_id
        LIMIT @max
        FOR UPDATE OF j SKIP LOCKED
        """;

    private readonly NpgsqlDataSource _db;

    /// <summary>Uses <paramref name="db"/>, whose tables <see cref="LiberTables.Ensure"/> has created.</summary>
    public PostgresJobQueue(NpgsqlDataSource db)
    {
        ArgumentNullException.ThrowIfNull(db);
        _db = db;
    }

    /// <inheritdoc />
    public long PendingJobs()
    {
        using NpgsqlCommand c = _db.CreateCommand("SELECT count(*) FROM liber_interest_jobs WHERE status = 0");
        return (long)c.ExecuteScalar()!;
    }

    /// <inheritdoc />
    public IReadOnlyList<InterestJob> Jobs(int user)
    {
        using NpgsqlCommand c = _db.CreateCommand(
            "SELECT p.number, p.start_index, p.end_index, p.start_time, p.end_time, p.prompt_tokens, p.content_hash, p.event_ids, p.items, p.times, p.ratings, " +
            "j.status, j.attempts, j.error, j.summary, j.shift, j.summary_vec, j.shift_vec " +
            "FROM liber_partitions p JOIN liber_interest_jobs j ON j.user_id = p.user_id AND j.number = p.number WHERE p.user_id = @u ORDER BY p.number");
        c.Parameters.AddWithValue("u", user);
        using NpgsqlDataReader r = c.ExecuteReader();
        var list = new List<InterestJob>();
        while (r.Read())
        {
            ClosedPartition cp = PostgresPartitionLog.Read(user, r, 0);
            list.Add(new InterestJob(
                cp.Partition,
                (InterestJobStatus)r.GetInt16(11),
                r.GetInt32(12),
                r.IsDBNull(13) ? null : r.GetString(13),
                r.IsDBNull(14) ? null : r.GetString(14),
                r.IsDBNull(15) ? null : r.GetString(15),
                r.IsDBNull(16) ? null : r.GetFieldValue<float[]>(16),
                r.IsDBNull(17) ? null : r.GetFieldValue<float[]>(17),
                cp.Events));
        }

        return list;
    }

    /// <inheritdoc />
    public IReadOnlyList<JobLease> Lease(int maxUsers, int maxPerUser, long nowMs, long leaseMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUsers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerUser, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(leaseMs, 1);
        using NpgsqlConnection c = _db.OpenConnection();
        using NpgsqlTransaction tx = c.BeginTransaction();
        var heads = new List<(int User, int First, int Attempts)>();
        using (var q = new NpgsqlCommand(HeadsSql, c, tx))
        {
            q.Parameters.AddWithValue("now", nowMs);
            q.Parameters.AddWithValue("max", maxUsers);
            using NpgsqlDataReader r = q.ExecuteReader();
            while (r.Read())
            {
                heads.Add((r.GetInt32(0), r.GetInt32(1), r.GetInt32(2)));
            }
        }

        var leases = new List<JobLease>(heads.Count);
        using var run = new NpgsqlCommand("SELECT number, status FROM liber_interest_jobs WHERE user_id = @u AND number > @first AND status <> 1 ORDER BY number LIMIT @more", c, tx);
        using var take = new NpgsqlCommand("UPDATE liber_interest_jobs SET lease_until = @until WHERE user_id = @u AND number BETWEEN @first AND @last", c, tx);
        foreach ((int user, int first, int attempts) in heads)
        {
            // The run: the pending jobs right after the head, up to the cap (a failed one ends it, as does a gap).
            int last = first;
            if (maxPerUser > 1)
            {
                run.Parameters.Clear();
                run.Parameters.AddWithValue("u", user);
                run.Parameters.AddWithValue("first", first);
                run.Parameters.AddWithValue("more", maxPerUser - 1);
                using NpgsqlDataReader r = run.ExecuteReader();
                while (r.Read() && r.GetInt32(0) == last + 1 && r.GetInt16(1) == (short)InterestJobStatus.Pending)
                {
                    last++;
                }
            }

            take.Parameters.Clear();
            take.Parameters.AddWithValue("until", nowMs + leaseMs);
            take.Parameters.AddWithValue("u", user);
            take.Parameters.AddWithValue("first", first);
            take.Parameters.AddWithValue("last", last);
            take.ExecuteNonQuery();
            leases.Add(new JobLease(user, first, last, attempts));
        }

        tx.Commit();
        return leases;
    }

    /// <inheritdoc />
    public void Record(IReadOnlyList<JobOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return;
        }

        using NpgsqlConnection c = _db.OpenConnection();
        using NpgsqlTransaction tx = c.BeginTransaction();
        using var done = new NpgsqlCommand(
            "UPDATE liber_interest_jobs SET status = 1, error = NULL, summary = @summary, shift = @shift, summary_vec = @sv, shift_vec = @hv, lease_until = 0 " +
            "WHERE user_id = @u AND number = @n AND status <> 1", c, tx);
        using var notDone = new NpgsqlCommand(
            "UPDATE liber_interest_jobs SET status = @status, attempts = attempts + 1, error = @error, retry_at = @retry, lease_until = 0 " +
            "WHERE user_id = @u AND number = @n AND status <> 1", c, tx);
        using var exists = new NpgsqlCommand("SELECT 1 FROM liber_interest_jobs WHERE user_id = @u AND number = @n", c, tx);
        foreach (JobOutcome o in outcomes)
        {
            NpgsqlCommand cmd = o.Status == InterestJobStatus.Done ? done : notDone;
            cmd.Parameters.Clear();
            cmd.Parameters.AddWithValue("u", o.User);
            cmd.Parameters.AddWithValue("n", o.Number);
            if (o.Status == InterestJobStatus.Done)
            {
                cmd.Parameters.AddWithValue("summary", NpgsqlDbType.Text, (object?)o.Summary ?? DBNull.Value);
                cmd.Parameters.AddWithValue("shift", NpgsqlDbType.Text, (object?)o.Shift ?? DBNull.Value);
                cmd.Parameters.AddWithValue("sv", NpgsqlDbType.Array | NpgsqlDbType.Real, (object?)o.SummaryVector ?? DBNull.Value);
                cmd.Parameters.AddWithValue("hv", NpgsqlDbType.Array | NpgsqlDbType.Real, (object?)o.ShiftVector ?? DBNull.Value);
            }
            else
            {
                cmd.Parameters.AddWithValue("status", (short)o.Status);
                cmd.Parameters.AddWithValue("error", NpgsqlDbType.Text, (object?)o.Error ?? DBNull.Value);
                cmd.Parameters.AddWithValue("retry", o.RetryAt);
            }

            if (cmd.ExecuteNonQuery() == 0)
            {
                // Either already done (another silo's outcome came first: texts and vectors are write-once) or unknown.
                exists.Parameters.Clear();
                exists.Parameters.AddWithValue("u", o.User);
                exists.Parameters.AddWithValue("n", o.Number);
                if (exists.ExecuteScalar() is null)
                {
                    throw new ArgumentException($"no interest job for partition {o.Number} of user {o.User}", nameof(outcomes));
                }
            }
        }

        tx.Commit();
    }
}
