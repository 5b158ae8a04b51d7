using System.Globalization;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>The read side of the partition log (partitions, states, totals, the invariant check).</summary>
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
                list.Add(StoreRows.ReadPartition(user, r));
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
                list.Add(StoreRows.ReadPartition(checked((int)r.GetInt64(8)), r));
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

    private static void CheckOrSet(SqliteConnection db, SqliteTransaction tx, string path, string key, string value)
    {
        if (StoreRows.GetMeta(db, tx, key) is string existing)
        {
            if (existing != value)
            {
                throw new ArgumentException($"store {path} was created with {key} '{existing}', not '{value}'; use a new store file for other settings");
            }

            return;
        }

        StoreRows.SetMeta(db, tx, key, value);
    }
}
