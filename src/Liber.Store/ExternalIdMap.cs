using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// The external user ids of a serving store (<c>user_ids</c>): external id to dense id, assigned densely in order of
/// first sight. A new id is held in memory at once (later batches of the same group see it) and written in the
/// writer's transaction of the first group that uses it; until a commit succeeds it stays pending and is written again
/// (idempotently) with the next group.
/// </summary>
/// <remarks>
/// The maps are guarded by <see cref="StoreContext.IdsGate"/>; the pending list is only touched under the store's
/// writer lock (assigning ids holds both).
/// </remarks>
/// <param name="context">The shared connection and gate.</param>
internal sealed class ExternalIdMap(StoreContext context)
{
    /// <summary>The table, created with the store.</summary>
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS user_ids(external TEXT PRIMARY KEY, user INTEGER NOT NULL UNIQUE) WITHOUT ROWID;

        """;

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<(int User, string External)> _unsaved = [];

    /// <summary>Users with an external id.</summary>
    public int Count
    {
        get
        {
            lock (context.IdsGate)
            {
                return _names.Count;
            }
        }
    }

    /// <summary>Ids assigned but not yet committed.</summary>
    public int Unsaved => _unsaved.Count;

    /// <summary>The dense id of an external user id, or null when unknown.</summary>
    public int? Find(string external)
    {
        lock (context.IdsGate)
        {
            return _ids.TryGetValue(external, out int id) ? id : null;
        }
    }

    /// <summary>The external id of a dense user id, or the number itself when it has none.</summary>
    public string Name(int user)
    {
        lock (context.IdsGate)
        {
            return user >= 0 && user < _names.Count ? _names[user] : user.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>How reasons name a user: its external id quoted, or the number itself when it has none.</summary>
    public string Label(int user)
    {
        lock (context.IdsGate)
        {
            return user >= 0 && user < _names.Count ? $"'{_names[user]}'" : user.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The dense id of an external user id, assigning the next one on first sight (the caller holds <see cref="StoreContext.IdsGate"/> and the writer lock).</summary>
    public int GetOrAddLocked(string external)
    {
        if (!_ids.TryGetValue(external, out int user))
        {
            user = _names.Count;
            _ids.Add(external, user);
            _names.Add(external);
            _unsaved.Add((user, external));
        }

        return user;
    }

    /// <summary>Loads the saved ids (the store is not shared yet).</summary>
    public void Load()
    {
        using SqliteCommand c = context.Db.CreateCommand();
        c.CommandText = "SELECT user, external FROM user_ids ORDER BY user";
        using SqliteDataReader r = c.ExecuteReader();
        while (r.Read())
        {
            int id = r.GetInt32(0);
            if (id != _names.Count)
            {
                throw new InvalidDataException($"store {context.Path}: user ids are not dense (found {id} after {_names.Count - 1})");
            }

            _names.Add(r.GetString(1));
            _ids[r.GetString(1)] = id;
        }
    }

    /// <summary>Writes the pending ids in the writer's transaction (already saved ones are left as they are).</summary>
    public void SaveNew(SqliteTransaction tx)
    {
        if (_unsaved.Count == 0)
        {
            return;
        }

        using SqliteCommand c = context.Db.CreateCommand();
        c.Transaction = tx;
        c.CommandText = "INSERT OR IGNORE INTO user_ids(external, user) VALUES ($e, $u)";
        SqliteParameter pe = c.Parameters.Add("$e", SqliteType.Text), pu = c.Parameters.Add("$u", SqliteType.Integer);
        foreach ((int user, string external) in _unsaved)
        {
            pe.Value = external;
            pu.Value = user;
            c.ExecuteNonQuery();
        }
    }

    /// <summary>Forgets the pending ids once the transaction that saved them has committed.</summary>
    public void Committed() => _unsaved.Clear();
}
