using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// Persistence of the store's engines: checkpoints of the users' engine states, loading an engine from its snapshot,
/// and the rows one group commit writes (log rows, closed partitions).
/// </summary>
public sealed partial class SqlitePartitionStore
{
    private void CheckpointLocked(Action<SqliteTransaction>? alsoWrite = null)
    {
        if (alsoWrite is null && _dirty.Count == 0 && _sinceCheckpoint == 0)
        {
            return;
        }

        using (SqliteTransaction tx = _db.BeginTransaction())
        {
            Enlist(tx);
            try
            {
                alsoWrite?.Invoke(tx);
                foreach (int user in _dirty)
                {
                    SaveUser(_engines[user].Save());
                }

                StoreRows.SetMeta(_db, tx, "checkpoint_seq", _lastSeq.ToString(CultureInfo.InvariantCulture));
                tx.Commit();
            }
            finally
            {
                Enlist(null);
            }
        }

        _dirty.Clear();
        _sinceCheckpoint = 0;
        if (_engines.Count > _options.MaxLoadedUsers)
        {
            _engines.Clear();
        }
    }

    private UserPartitioner Engine(int user)
    {
        if (!_engines.TryGetValue(user, out UserPartitioner? engine))
        {
            UserPartitionState state = LoadSnapshot(user) ?? new UserPartitionState { User = user };
            engine = new UserPartitioner(state, _policy, _caps, _features);
            _engines[user] = engine;
        }

        return engine;
    }

    private UserPartitionState? LoadSnapshot(int user)
    {
        _loadUser.Parameters[0].Value = user;
        using SqliteDataReader r = _loadUser.ExecuteReader();
        if (!r.Read())
        {
            return null;
        }

        return new UserPartitionState
        {
            User = user,
            NextIndex = r.GetInt32(0),
            PartitionCount = r.GetInt32(1),
            LastTimestamp = r.IsDBNull(2) ? null : r.GetInt64(2),
            Cache = StoreRows.DecodeCache((byte[])r[3]),
        };
    }

    private void SaveUser(UserPartitionState s)
    {
        _saveUser.Parameters[0].Value = s.User;
        _saveUser.Parameters[1].Value = s.NextIndex;
        _saveUser.Parameters[2].Value = s.PartitionCount;
        _saveUser.Parameters[3].Value = s.LastTimestamp is long t ? t : DBNull.Value;
        _saveUser.Parameters[4].Value = StoreRows.EncodeCache(s.Cache);
        _saveUser.ExecuteNonQuery();
    }

    /// <summary>
    /// Appends log rows with multi-row inserts whose values are inlined as literals. A statement per event costs more
    /// than SQLite's own work, and binding hundreds of named parameters is quadratic (SQLite looks each name up by a
    /// linear scan): both measured. Every value is a number formatted here (ratings are checked finite), never caller text.
    /// </summary>
    private void InsertLog(List<(StoreEvent E, bool Late)> rows)
    {
        var sql = new StringBuilder();
        for (int from = 0; from < rows.Count; from += LogRowsPerStatement)
        {
            int to = Math.Min(rows.Count, from + LogRowsPerStatement);
            sql.Clear().Append("INSERT INTO log(event_id, user, item, ts, rating, late) VALUES ");
            for (int i = from; i < to; i++)
            {
                (StoreEvent e, bool late) = rows[i];
                sql.Append(i == from ? "(" : ",(")
                    .Append(CultureInfo.InvariantCulture, $"{e.EventId},{e.User},{e.Item},{e.Timestamp},{e.Rating:R},{(late ? 1 : 0)}")
                    .Append(')');
            }

            using SqliteCommand c = _db.CreateCommand();
            c.Transaction = _insertPartition.Transaction;
            c.CommandText = sql.ToString();
            c.ExecuteNonQuery();
        }
    }

    private void SavePartition(Partition p)
    {
        var ids = new byte[p.EventIds.Length * 8];
        for (int i = 0; i < p.EventIds.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(ids.AsSpan(i * 8), p.EventIds[i]);
        }

        SqliteParameterCollection a = _insertPartition.Parameters;
        a[0].Value = p.User;
        a[1].Value = p.Number;
        a[2].Value = p.Start;
        a[3].Value = p.End;
        a[4].Value = p.StartTime;
        a[5].Value = p.EndTime;
        a[6].Value = p.PromptTokens;
        a[7].Value = p.ContentHash;
        a[8].Value = ids;
        _insertPartition.ExecuteNonQuery();
    }
}
