using System.Buffers.Binary;
using System.Globalization;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>The read side of the store (partitions, states, totals, the invariant check) and the row codecs.</summary>
public sealed partial class SqlitePartitionStore
{
    /// <inheritdoc />
    public IReadOnlyList<Partition> Partitions(int user)
    {
        lock (_gate)
        {
            using SqliteCommand c = _db.CreateCommand();
            c.CommandText = "SELECT number, start_index, end_index, start_time, end_time, prompt_tokens, content_hash, event_ids FROM partitions WHERE user = $user ORDER BY number";
            c.Parameters.AddWithValue("$user", user);
            using SqliteDataReader r = c.ExecuteReader();
            var list = new List<Partition>();
            while (r.Read())
            {
                list.Add(ReadPartition(user, r));
            }

            return list;
        }
    }

    /// <inheritdoc />
    public bool IsApplied(long eventId)
    {
        lock (_gate)
        {
            return _applied.ContainsKey(eventId);
        }
    }

    /// <inheritdoc />
    public IEnumerable<Partition> AllPartitions()
    {
        lock (_gate)
        {
            using SqliteCommand c = _db.CreateCommand();
            c.CommandText = "SELECT number, start_index, end_index, start_time, end_time, prompt_tokens, content_hash, event_ids, user FROM partitions ORDER BY user, number";
            using SqliteDataReader r = c.ExecuteReader();
            var list = new List<Partition>();
            while (r.Read())
            {
                list.Add(ReadPartition(checked((int)r.GetInt64(8)), r));
            }

            return list;
        }
    }

    /// <inheritdoc />
    public UserPartitionState? State(int user)
    {
        lock (_gate)
        {
            return _engines.TryGetValue(user, out UserPartitioner? engine) ? engine.Save() : LoadSnapshot(user);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<int> Users()
    {
        lock (_gate)
        {
            var users = new SortedSet<int>(_engines.Keys);
            using SqliteCommand c = _db.CreateCommand();
            c.CommandText = "SELECT user FROM users";
            using SqliteDataReader r = c.ExecuteReader();
            while (r.Read())
            {
                users.Add(checked((int)r.GetInt64(0)));
            }

            return [.. users];
        }
    }

    /// <inheritdoc />
    public StoreTotals Totals()
    {
        lock (_gate)
        {
            IReadOnlyList<int> users = Users();
            long cached = 0;
            foreach (int u in users)
            {
                cached += (_engines.TryGetValue(u, out UserPartitioner? e) ? e.Save() : LoadSnapshot(u))?.Cache.Length ?? 0;
            }

            using SqliteCommand c = _db.CreateCommand();
            c.CommandText = "SELECT COUNT(*) FROM partitions";
            return new StoreTotals(users.Count, _applied.Count, (long)c.ExecuteScalar()!, cached);
        }
    }

    /// <summary>
    /// Checks the store's invariants and returns every violation found (empty when sound): per user, partitions
    /// numbered 0..n-1 over contiguous index ranges from 0 with one event id per index, partitions plus cache
    /// accounting for every index, and one logged event per index.
    /// </summary>
    public IReadOnlyList<string> Verify()
    {
        var problems = new List<string>();
        var logged = new Dictionary<int, long>();
        lock (_gate)
        {
            using SqliteCommand c = _db.CreateCommand();
            c.CommandText = "SELECT user, COUNT(*) FROM log GROUP BY user";
            using SqliteDataReader r = c.ExecuteReader();
            while (r.Read())
            {
                logged[checked((int)r.GetInt64(0))] = r.GetInt64(1);
            }
        }

        foreach (int user in Users())
        {
            UserPartitionState state = State(user)!;
            IReadOnlyList<Partition> parts = Partitions(user);
            int expectStart = 0;
            for (int n = 0; n < parts.Count; n++)
            {
                Partition p = parts[n];
                if (p.Number != n || p.Start != expectStart || p.End < p.Start || p.EventIds.Length != p.Count)
                {
                    problems.Add($"user {user}: partition {p.Number} [{p.Start}, {p.End}] with {p.EventIds.Length} event ids breaks the chain (expected number {n} starting at {expectStart})");
                }

                expectStart = p.End + 1;
            }

            if (state.PartitionCount != parts.Count)
            {
                problems.Add($"user {user}: the engine counts {state.PartitionCount} partitions, the store holds {parts.Count}");
            }

            if (expectStart + state.Cache.Length != state.NextIndex)
            {
                problems.Add($"user {user}: partitions cover {expectStart} events and the cache {state.Cache.Length}, but the next index is {state.NextIndex}");
            }

            long n2 = logged.GetValueOrDefault(user);
            if (n2 != state.NextIndex)
            {
                problems.Add($"user {user}: {n2} logged events for {state.NextIndex} indexed events");
            }
        }

        return problems;
    }

    private static string Describe(IPartitionPolicy policy, PartitionCaps caps, string tokenizer) =>
        string.Create(CultureInfo.InvariantCulture, $"{policy.Describe()} max_events={caps.MaxEvents} max_prompt_tokens={caps.MaxPromptTokens} tokenizer={tokenizer}");

    private static void Execute(SqliteConnection db, string sql, SqliteTransaction? tx = null)
    {
        using SqliteCommand c = db.CreateCommand();
        c.CommandText = sql;
        c.Transaction = tx;
        c.ExecuteNonQuery();
    }

    private static string? GetMeta(SqliteConnection db, SqliteTransaction? tx, string key)
    {
        using SqliteCommand get = db.CreateCommand();
        get.Transaction = tx;
        get.CommandText = "SELECT value FROM meta WHERE key = $k";
        get.Parameters.AddWithValue("$k", key);
        return get.ExecuteScalar() as string;
    }

    private static void SetMeta(SqliteConnection db, SqliteTransaction tx, string key, string value)
    {
        using SqliteCommand set = db.CreateCommand();
        set.Transaction = tx;
        set.CommandText = "INSERT INTO meta(key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        set.Parameters.AddWithValue("$k", key);
        set.Parameters.AddWithValue("$v", value);
        set.ExecuteNonQuery();
    }

    private static void CheckOrSet(SqliteConnection db, SqliteTransaction tx, string path, string key, string value)
    {
        if (GetMeta(db, tx, key) is string existing)
        {
            if (existing != value)
            {
                throw new ArgumentException($"store {path} was created with {key} '{existing}', not '{value}'; use a new store file for other settings");
            }

            return;
        }

        SetMeta(db, tx, key, value);
    }

    private static Partition ReadPartition(int user, SqliteDataReader r)
    {
        byte[] blob = (byte[])r[7];
        var ids = new long[blob.Length / 8];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = BinaryPrimitives.ReadInt64LittleEndian(blob.AsSpan(i * 8));
        }

        return new Partition(user, r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetInt64(3), r.GetInt64(4), ids, r.GetInt32(5), r.GetString(6));
    }

    private static byte[] EncodeCache(ReadOnlySpan<PartitionEvent> cache)
    {
        var blob = new byte[cache.Length * EventBytes];
        for (int i = 0; i < cache.Length; i++)
        {
            Span<byte> b = blob.AsSpan(i * EventBytes, EventBytes);
            BinaryPrimitives.WriteInt64LittleEndian(b, cache[i].EventId);
            BinaryPrimitives.WriteInt32LittleEndian(b[8..], cache[i].Item);
            BinaryPrimitives.WriteInt64LittleEndian(b[12..], cache[i].Timestamp);
            BinaryPrimitives.WriteSingleLittleEndian(b[20..], cache[i].Rating);
        }

        return blob;
    }

    private static PartitionEvent[] DecodeCache(byte[] blob)
    {
        var cache = new PartitionEvent[blob.Length / EventBytes];
        for (int i = 0; i < cache.Length; i++)
        {
            ReadOnlySpan<byte> b = blob.AsSpan(i * EventBytes, EventBytes);
            cache[i] = new PartitionEvent(
                BinaryPrimitives.ReadInt64LittleEndian(b),
                BinaryPrimitives.ReadInt32LittleEndian(b[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(b[12..]),
                BinaryPrimitives.ReadSingleLittleEndian(b[20..]));
        }

        return cache;
    }
}
