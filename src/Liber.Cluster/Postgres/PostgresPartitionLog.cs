using System.Globalization;
using Liber.Core.Partitioning;
using Npgsql;
using NpgsqlTypes;

namespace Liber.Cluster.Postgres;

/// <summary>
/// The cluster's durable partition log in PostgreSQL (<c>liber_users</c>, <c>liber_partitions</c>, and the job row each
/// partition gets in <c>liber_interest_jobs</c>): where the user grains drain their outboxes, and where any silo reads
/// partitions and external ids. Thread-safe (one pooled connection per call).
/// </summary>
public sealed class PostgresPartitionLog : IPartitionSink
{
    private const string Columns = "number, start_index, end_index, start_time, end_time, prompt_tokens, content_hash, event_ids, items, times, ratings";

    private readonly NpgsqlDataSource _db;

    /// <summary>Uses <paramref name="db"/>, whose tables <see cref="LiberTables.Ensure"/> has created.</summary>
    public PostgresPartitionLog(NpgsqlDataSource db)
    {
        ArgumentNullException.ThrowIfNull(db);
        _db = db;
    }

    /// <inheritdoc />
    public async Task<int> RegisterUserAsync(string external)
    {
        ArgumentNullException.ThrowIfNull(external);
        await using NpgsqlConnection c = await _db.OpenConnectionAsync().ConfigureAwait(false);

        // The sequence hands out ids; a value taken by a row written before the sequence existed (schema 1 databases, whose
        // ids came from a grain) is skipped by the retry, and the schema script moves the sequence past them once.
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            await using var find = new NpgsqlCommand("SELECT user_id FROM liber_users WHERE external = @e", c);
            find.Parameters.AddWithValue("e", external);
            if (await find.ExecuteScalarAsync().ConfigureAwait(false) is int id)
            {
                return id;
            }

            await using var insert = new NpgsqlCommand("INSERT INTO liber_users(user_id, external) VALUES (nextval('liber_user_ids'), @e) ON CONFLICT DO NOTHING", c);
            insert.Parameters.AddWithValue("e", external);
            await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        throw new InvalidOperationException($"no dense id for user '{external}' after 1000 attempts: the sequence liber_user_ids keeps meeting taken ids (reset it with setval past max(user_id) of liber_users)");
    }

    /// <inheritdoc />
    public async Task SaveAsync(IReadOnlyList<ClosedPartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        if (partitions.Count == 0)
        {
            return;
        }

        await using NpgsqlConnection c = await _db.OpenConnectionAsync().ConfigureAwait(false);
        await using NpgsqlTransaction tx = await c.BeginTransactionAsync().ConfigureAwait(false);
        await using var insert = new NpgsqlCommand(
            $"INSERT INTO liber_partitions(user_id, {Columns}) VALUES (@u, @n, @s, @e, @st, @et, @tok, @h, @ids, @items, @times, @ratings) ON CONFLICT DO NOTHING", c, tx);
        await using var job = new NpgsqlCommand("INSERT INTO liber_interest_jobs(user_id, number) VALUES (@u, @n) ON CONFLICT DO NOTHING", c, tx);
        foreach (ClosedPartition cp in partitions)
        {
            Partition p = cp.Partition;
            if (cp.Events.Length != p.EventIds.Length)
            {
                throw new ArgumentException($"partition {p.Number} of user {p.User} has {p.EventIds.Length} event ids but {cp.Events.Length} events", nameof(partitions));
            }

            insert.Parameters.Clear();
            insert.Parameters.AddWithValue("u", p.User);
            insert.Parameters.AddWithValue("n", p.Number);
            insert.Parameters.AddWithValue("s", p.Start);
            insert.Parameters.AddWithValue("e", p.End);
            insert.Parameters.AddWithValue("st", p.StartTime);
            insert.Parameters.AddWithValue("et", p.EndTime);
            insert.Parameters.AddWithValue("tok", p.PromptTokens);
            insert.Parameters.AddWithValue("h", p.ContentHash);
            insert.Parameters.AddWithValue("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, cp.Events.Select(e => e.EventId).ToArray());
            insert.Parameters.AddWithValue("items", NpgsqlDbType.Array | NpgsqlDbType.Integer, cp.Events.Select(e => e.Item).ToArray());
            insert.Parameters.AddWithValue("times", NpgsqlDbType.Array | NpgsqlDbType.Bigint, cp.Events.Select(e => e.Timestamp).ToArray());
            insert.Parameters.AddWithValue("ratings", NpgsqlDbType.Array | NpgsqlDbType.Real, cp.Events.Select(e => e.Rating).ToArray());
            if (await insert.ExecuteNonQueryAsync().ConfigureAwait(false) == 0)
            {
                ClosedPartition stored = (await ReadAsync(c, tx, p.User, p.Number).ConfigureAwait(false))!;
                if (!SameContent(stored, cp))
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                        $"partition {p.Number} of user {p.User} is already stored with other content (stored: events [{stored.Partition.Start},{stored.Partition.End}] hash {stored.Partition.ContentHash}; new: events [{p.Start},{p.End}] hash {p.ContentHash}): partitions are write-once"));
                }
            }

            job.Parameters.Clear();
            job.Parameters.AddWithValue("u", p.User);
            job.Parameters.AddWithValue("n", p.Number);
            await job.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await tx.CommitAsync().ConfigureAwait(false);
    }

    /// <summary>The dense id of an external user id, or null.</summary>
    public int? FindUser(string external)
    {
        ArgumentNullException.ThrowIfNull(external);
        using NpgsqlCommand c = _db.CreateCommand("SELECT user_id FROM liber_users WHERE external = @e");
        c.Parameters.AddWithValue("e", external);
        return c.ExecuteScalar() is int id ? id : null;
    }

    /// <summary>The external id of a dense user id (throws naming the id when unknown).</summary>
    public string UserName(int user)
    {
        using NpgsqlCommand c = _db.CreateCommand("SELECT external FROM liber_users WHERE user_id = @u");
        c.Parameters.AddWithValue("u", user);
        return c.ExecuteScalar() as string ?? throw new ArgumentOutOfRangeException(nameof(user), user, $"no user has dense id {user}");
    }

    /// <summary>Users with an external id.</summary>
    public int KnownUsers()
    {
        using NpgsqlCommand c = _db.CreateCommand("SELECT count(*) FROM liber_users");
        return checked((int)(long)c.ExecuteScalar()!);
    }

    /// <summary>Dense ids of every user with an external id, ascending.</summary>
    public IReadOnlyList<int> Users()
    {
        using NpgsqlCommand c = _db.CreateCommand("SELECT user_id FROM liber_users ORDER BY user_id");
        using NpgsqlDataReader r = c.ExecuteReader();
        var list = new List<int>();
        while (r.Read())
        {
            list.Add(r.GetInt32(0));
        }

        return list;
    }

    /// <summary>How many events the stored partitions hold.</summary>
    public long PartitionedEvents()
    {
        using NpgsqlCommand c = _db.CreateCommand("SELECT coalesce(sum(end_index - start_index + 1), 0) FROM liber_partitions");
        return Convert.ToInt64(c.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The stored closed partitions of a user, oldest first.</summary>
    public IReadOnlyList<ClosedPartition> Partitions(int user)
    {
        using NpgsqlCommand c = _db.CreateCommand($"SELECT {Columns} FROM liber_partitions WHERE user_id = @u ORDER BY number");
        c.Parameters.AddWithValue("u", user);
        using NpgsqlDataReader r = c.ExecuteReader();
        var list = new List<ClosedPartition>();
        while (r.Read())
        {
            list.Add(Read(user, r, 0));
        }

        return list;
    }

    /// <summary>Every stored partition, by user then number (streamed: the enumeration holds a connection until it ends).</summary>
    public IEnumerable<Partition> AllPartitions()
    {
        using NpgsqlCommand c = _db.CreateCommand($"SELECT user_id, {Columns} FROM liber_partitions ORDER BY user_id, number");
        using NpgsqlDataReader r = c.ExecuteReader();
        while (r.Read())
        {
            yield return Read(r.GetInt32(0), r, 1).Partition;
        }
    }

    /// <summary>How many partitions are stored.</summary>
    public long Count()
    {
        using NpgsqlCommand c = _db.CreateCommand("SELECT count(*) FROM liber_partitions");
        return (long)c.ExecuteScalar()!;
    }

    /// <summary>A partition and its events from a row whose columns start at <paramref name="at"/> in <see cref="Columns"/> order.</summary>
    internal static ClosedPartition Read(int user, NpgsqlDataReader r, int at)
    {
        long[] ids = r.GetFieldValue<long[]>(at + 7);
        int[] items = r.GetFieldValue<int[]>(at + 8);
        long[] times = r.GetFieldValue<long[]>(at + 9);
        float[] ratings = r.GetFieldValue<float[]>(at + 10);
        var events = new PartitionEvent[ids.Length];
        for (int i = 0; i < events.Length; i++)
        {
            events[i] = new PartitionEvent(ids[i], items[i], times[i], ratings[i]);
        }

        var p = new Partition(user, r.GetInt32(at), r.GetInt32(at + 1), r.GetInt32(at + 2), r.GetInt64(at + 3), r.GetInt64(at + 4), ids, r.GetInt32(at + 5), r.GetString(at + 6));
        return new ClosedPartition(p, events);
    }

    private static async Task<ClosedPartition?> ReadAsync(NpgsqlConnection c, NpgsqlTransaction tx, int user, int number)
    {
        await using var q = new NpgsqlCommand($"SELECT {Columns} FROM liber_partitions WHERE user_id = @u AND number = @n", c, tx);
        q.Parameters.AddWithValue("u", user);
        q.Parameters.AddWithValue("n", number);
        await using NpgsqlDataReader r = await q.ExecuteReaderAsync().ConfigureAwait(false);
        return await r.ReadAsync().ConfigureAwait(false) ? Read(user, r, 0) : null;
    }

    private static bool SameContent(ClosedPartition a, ClosedPartition b)
    {
        Partition x = a.Partition, y = b.Partition;
        return (x.Start, x.End, x.StartTime, x.EndTime, x.PromptTokens, x.ContentHash) == (y.Start, y.End, y.StartTime, y.EndTime, y.PromptTokens, y.ContentHash)
            && x.EventIds.AsSpan().SequenceEqual(y.EventIds) && a.Events.AsSpan().SequenceEqual(b.Events);
    }
}
