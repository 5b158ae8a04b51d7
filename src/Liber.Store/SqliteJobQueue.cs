using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// The interest job queue of a serving store (<c>interest_jobs</c>): one row per closed partition, written in the
/// transaction that closed it, leased by the nearline worker, and completed with its texts and vectors. Leases and
/// outcomes are written through the writer connection under the store's writer lock; reads of jobs go through a
/// second, read-only connection with a gate of its own (WAL readers do not wait for the writer's commits).
/// </summary>
/// <param name="context">The shared connection and file.</param>
internal sealed class SqliteJobQueue(StoreContext context) : IDisposable
{
    /// <summary>The table and its index of open jobs, created with the store.</summary>
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS interest_jobs(user INTEGER NOT NULL, number INTEGER NOT NULL, status INTEGER NOT NULL, attempts INTEGER NOT NULL,
            error TEXT, not_before INTEGER NOT NULL, lease_until INTEGER NOT NULL, summary TEXT, shift TEXT, summary_vec BLOB, shift_vec BLOB,
            events BLOB NOT NULL, PRIMARY KEY(user, number)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS interest_jobs_open ON interest_jobs(user, number) WHERE status <> 1;

        """;

    private readonly object _readGate = new();
    private SqliteConnection? _reader;
    private SqliteCommand? _insert;

    /// <summary>Frees every lease (a reopened store owns its jobs again), prepares the insert and opens the read connection.</summary>
    public void Open()
    {
        StoreRows.Execute(context.Db, "UPDATE interest_jobs SET lease_until = 0 WHERE lease_until <> 0");
        _insert = context.Db.CreateCommand();
        _insert.CommandText = "INSERT INTO interest_jobs(user, number, status, attempts, not_before, lease_until, events) VALUES ($user, $number, 0, 0, 0, 0, $events)";
        _insert.Parameters.Add(new SqliteParameter { ParameterName = "$user" });
        _insert.Parameters.Add(new SqliteParameter { ParameterName = "$number" });
        _insert.Parameters.Add(new SqliteParameter { ParameterName = "$events" });
        _reader = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = context.Path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        _reader.Open();
        StoreRows.Execute(_reader, "PRAGMA busy_timeout=5000");
    }

    /// <summary>Jobs pending (not done, not failed).</summary>
    public long Pending()
    {
        lock (_readGate)
        {
            using SqliteCommand c = Reader().CreateCommand();
            c.CommandText = "SELECT COUNT(*) FROM interest_jobs WHERE status = 0";
            return (long)c.ExecuteScalar()!;
        }
    }

    /// <summary>Every closed partition of a user with its job, oldest first.</summary>
    public IReadOnlyList<InterestJob> Jobs(int user)
    {
        lock (_readGate)
        {
            using SqliteCommand c = Reader().CreateCommand();
            c.CommandText = "SELECT p.number, p.start_index, p.end_index, p.start_time, p.end_time, p.prompt_tokens, p.content_hash, p.event_ids, " +
                "j.status, j.attempts, j.error, j.summary, j.shift, j.summary_vec, j.shift_vec, j.events " +
                "FROM partitions p JOIN interest_jobs j ON j.user = p.user AND j.number = p.number WHERE p.user = $user ORDER BY p.number";
            c.Parameters.AddWithValue("$user", user);
            using SqliteDataReader r = c.ExecuteReader();
            var list = new List<InterestJob>();
            while (r.Read())
            {
                list.Add(new InterestJob(
                    StoreRows.ReadPartition(user, r),
                    (InterestJobStatus)r.GetInt32(8),
                    r.GetInt32(9),
                    r.IsDBNull(10) ? null : r.GetString(10),
                    r.IsDBNull(11) ? null : r.GetString(11),
                    r.IsDBNull(12) ? null : r.GetString(12),
                    r.IsDBNull(13) ? null : StoreRows.ToFloats((byte[])r[13]),
                    r.IsDBNull(14) ? null : StoreRows.ToFloats((byte[])r[14]),
                    StoreRows.DecodeCache((byte[])r[15])));
            }

            return list;
        }
    }

    /// <summary>Leases due users' runs of pending jobs, in user order (the caller holds the writer lock and checked its arguments).</summary>
    public IReadOnlyList<JobLease> LeaseLocked(int maxUsers, int maxPerUser, long nowMs, long leaseMs)
    {
        var leases = new List<JobLease>();
        using (SqliteCommand c = context.Db.CreateCommand())
        {
            // Open jobs by user and number (the partial index): a user is due when its first open job is pending,
            // due and not leased; its run is the pending jobs that follow it (a failed one blocks the rest).
            c.CommandText = "SELECT user, number, status, attempts, not_before, lease_until FROM interest_jobs WHERE status <> 1 ORDER BY user, number";
            using SqliteDataReader r = c.ExecuteReader();
            int user = -1, first = -1, last = -1, attempts = 0;
            bool open = false;
            while (r.Read())
            {
                int u = r.GetInt32(0), n = r.GetInt32(1);
                var status = (InterestJobStatus)r.GetInt32(2);
                if (u != user)
                {
                    if (open)
                    {
                        leases.Add(new JobLease(user, first, last, attempts));
                        if (leases.Count == maxUsers)
                        {
                            open = false;
                            break;
                        }
                    }

                    user = u;
                    open = status == InterestJobStatus.Pending && r.GetInt64(4) <= nowMs && r.GetInt64(5) <= nowMs;
                    first = last = n;
                    attempts = r.GetInt32(3);
                    continue;
                }

                if (open && status == InterestJobStatus.Pending && n == last + 1 && last - first + 1 < maxPerUser)
                {
                    last = n;
                }
            }

            if (open)
            {
                leases.Add(new JobLease(user, first, last, attempts));
            }
        }

        if (leases.Count > 0)
        {
            using SqliteTransaction tx = context.Db.BeginTransaction();
            using SqliteCommand u = context.Db.CreateCommand();
            u.Transaction = tx;
            u.CommandText = "UPDATE interest_jobs SET lease_until = $until WHERE user = $user AND number BETWEEN $first AND $last";
            SqliteParameter until = u.Parameters.AddWithValue("$until", nowMs + leaseMs), pu = u.Parameters.Add("$user", SqliteType.Integer),
                pf = u.Parameters.Add("$first", SqliteType.Integer), pl = u.Parameters.Add("$last", SqliteType.Integer);
            foreach (JobLease l in leases)
            {
                pu.Value = l.User;
                pf.Value = l.First;
                pl.Value = l.Last;
                u.ExecuteNonQuery();
            }

            tx.Commit();
        }

        return leases;
    }

    /// <summary>Records outcomes in one transaction (the caller holds the writer lock; <paramref name="outcomes"/> is not empty).</summary>
    public void RecordLocked(IReadOnlyList<JobOutcome> outcomes)
    {
        using SqliteTransaction tx = context.Db.BeginTransaction();
        using SqliteCommand done = context.Db.CreateCommand(), failed = context.Db.CreateCommand();
        done.Transaction = failed.Transaction = tx;
        done.CommandText = "UPDATE interest_jobs SET status = 1, error = NULL, summary = $summary, shift = $shift, summary_vec = $sv, shift_vec = $hv, lease_until = 0 WHERE user = $user AND number = $number";
        failed.CommandText = "UPDATE interest_jobs SET status = $status, attempts = attempts + 1, error = $error, not_before = $retry, lease_until = 0 WHERE user = $user AND number = $number";
        foreach (JobOutcome o in outcomes)
        {
            SqliteCommand c = o.Status == InterestJobStatus.Done ? done : failed;
            c.Parameters.Clear();
            c.Parameters.AddWithValue("$user", o.User);
            c.Parameters.AddWithValue("$number", o.Number);
            if (o.Status == InterestJobStatus.Done)
            {
                c.Parameters.AddWithValue("$summary", (object?)o.Summary ?? DBNull.Value);
                c.Parameters.AddWithValue("$shift", (object?)o.Shift ?? DBNull.Value);
                c.Parameters.AddWithValue("$sv", o.SummaryVector is null ? DBNull.Value : StoreRows.ToBytes(o.SummaryVector));
                c.Parameters.AddWithValue("$hv", o.ShiftVector is null ? DBNull.Value : StoreRows.ToBytes(o.ShiftVector));
            }
            else
            {
                c.Parameters.AddWithValue("$status", (int)o.Status);
                c.Parameters.AddWithValue("$error", (object?)o.Error ?? DBNull.Value);
                c.Parameters.AddWithValue("$retry", o.RetryAt);
            }

            if (c.ExecuteNonQuery() != 1)
            {
                throw new ArgumentException($"store {context.Path}: no interest job for partition {o.Number} of user {o.User}");
            }
        }

        tx.Commit();
    }

    /// <summary>Writes a closed partition's job, with its events, in the writer's transaction.</summary>
    public void Save(SqliteTransaction tx, Partition p, PartitionEvent[] events)
    {
        SqliteCommand c = _insert!;
        c.Transaction = tx;
        c.Parameters[0].Value = p.User;
        c.Parameters[1].Value = p.Number;
        c.Parameters[2].Value = StoreRows.EncodeCache(events);
        c.ExecuteNonQuery();
    }

    /// <summary>Closes the read connection and the prepared insert.</summary>
    public void Dispose()
    {
        _insert?.Dispose();
        _reader?.Dispose();
        _reader = null;
    }

    private SqliteConnection Reader()
    {
        ObjectDisposedException.ThrowIf(_reader is null, context.Owner);
        return _reader;
    }
}
