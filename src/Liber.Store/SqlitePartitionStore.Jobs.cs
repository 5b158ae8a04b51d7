using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// The interest job queue of the serving store (<c>interest_jobs</c>): one row per closed partition, written in the
/// transaction that closed it, leased by the nearline worker, and completed with its texts and vectors.
/// </summary>
public sealed partial class SqlitePartitionStore
{
    /// <inheritdoc />
    public long PendingJobs()
    {
        lock (_readGate)
        {
            using SqliteCommand c = Reader().CreateCommand();
            c.CommandText = "SELECT COUNT(*) FROM interest_jobs WHERE status = 0";
            return (long)c.ExecuteScalar()!;
        }
    }

    /// <inheritdoc />
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
                    ReadPartition(user, r),
                    (InterestJobStatus)r.GetInt32(8),
                    r.GetInt32(9),
                    r.IsDBNull(10) ? null : r.GetString(10),
                    r.IsDBNull(11) ? null : r.GetString(11),
                    r.IsDBNull(12) ? null : r.GetString(12),
                    r.IsDBNull(13) ? null : ToFloats((byte[])r[13]),
                    r.IsDBNull(14) ? null : ToFloats((byte[])r[14]),
                    DecodeCache((byte[])r[15])));
            }

            return list;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<JobLease> Lease(int maxUsers, int maxPerUser, long nowMs, long leaseMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUsers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerUser, 1);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var leases = new List<JobLease>();
            using (SqliteCommand c = _db.CreateCommand())
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
                using SqliteTransaction tx = _db.BeginTransaction();
                using SqliteCommand u = _db.CreateCommand();
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
    }

    /// <inheritdoc />
    public void Record(IReadOnlyList<JobOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using SqliteTransaction tx = _db.BeginTransaction();
            using SqliteCommand done = _db.CreateCommand(), failed = _db.CreateCommand();
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
                    c.Parameters.AddWithValue("$sv", o.SummaryVector is null ? DBNull.Value : ToBytes(o.SummaryVector));
                    c.Parameters.AddWithValue("$hv", o.ShiftVector is null ? DBNull.Value : ToBytes(o.ShiftVector));
                }
                else
                {
                    c.Parameters.AddWithValue("$status", (int)o.Status);
                    c.Parameters.AddWithValue("$error", (object?)o.Error ?? DBNull.Value);
                    c.Parameters.AddWithValue("$retry", o.RetryAt);
                }

                if (c.ExecuteNonQuery() != 1)
                {
                    throw new ArgumentException($"store {Path}: no interest job for partition {o.Number} of user {o.User}");
                }
            }

            tx.Commit();
        }
    }

    private void SaveJob(SqliteTransaction tx, Partition p, PartitionEvent[] events)
    {
        SqliteCommand c = _insertJob!;
        c.Transaction = tx;
        c.Parameters[0].Value = p.User;
        c.Parameters[1].Value = p.Number;
        c.Parameters[2].Value = EncodeCache(events);
        c.ExecuteNonQuery();
    }

    private static byte[] ToBytes(float[] v) => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    private static float[] ToFloats(byte[] b)
    {
        var v = new float[b.Length / 4];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(i * 4));
        }

        return v;
    }
}
