using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// The serving side of the store (schema 2): external ids, the item catalog and the interest job queue.
/// <list type="bullet">
/// <item><c>user_ids</c>: external user id to dense id, written in the transaction of the first event that uses it;</item>
/// <item><c>items</c>: the catalog (dense id, external id, metadata); a change is written in the same transaction as a
/// checkpoint of the engines, so the log after a checkpoint is always replayed under the catalog it was applied with;</item>
/// <item><c>interest_jobs</c>: one row per closed partition, written with it: status, attempts, error, texts, vectors
/// and the partition's events (so that UIL and ranking need no scan of the log).</item>
/// </list>
/// Reads of jobs go through a second, read-only connection (WAL readers do not wait for the writer's commits).
/// </summary>
public sealed partial class SqlitePartitionStore : IServingStore
{
    private readonly bool _catalogMode;
    private readonly object _idsGate = new();
    private readonly object _readGate = new();
    private readonly Dictionary<string, int> _userIds = new(StringComparer.Ordinal);
    private readonly List<string> _userNames = [];
    private readonly List<(int User, string External)> _unsavedUsers = [];
    private readonly Dictionary<string, int> _itemIds = new(StringComparer.Ordinal);
    private readonly List<Item> _items = [];
    private readonly List<PartitionEvent> _scratch = [];
    private ITokenCounter? _tokenCounter;
    private Dataset? _catalogSnapshot;
    private SqliteConnection? _reader;
    private SqliteCommand? _insertJob;

    /// <summary>
    /// Opens (or creates) a serving store whose item features come from its own catalog (<see cref="IItemCatalog"/>)
    /// instead of a data set: items may be added while it runs, by <see cref="UpsertItems"/> or by first sight in
    /// an <see cref="AppendAsync(IReadOnlyList{ExternalEvent}, CancellationToken)"/> batch.
    /// </summary>
    public static SqlitePartitionStore OpenServing(string path, IPartitionPolicy policy, PartitionCaps caps, ITokenCounter tokens, SqliteStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var memo = new MemoTokenCounter(tokens);
        return OpenCore(path, policy, caps, tokens.Name, s =>
        {
            s._tokenCounter = memo;
            return ItemFeatures.Build(s.CatalogDatasetLocked(), memo);
        }, catalog: true, options);
    }

    /// <summary>Users with an external id.</summary>
    public int KnownUsers
    {
        get
        {
            lock (_idsGate)
            {
                return _userNames.Count;
            }
        }
    }

    /// <summary>Items in the catalog.</summary>
    public int CatalogCount
    {
        get
        {
            lock (_idsGate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>
    /// Appends a batch of events named by external ids through the group committer (see
    /// <see cref="AppendAsync(IReadOnlyList{StoreEvent}, CancellationToken)"/>). New users get dense ids in the same
    /// transaction as the events; new items get bare catalog rows first. Only for stores opened with <see cref="OpenServing"/>.
    /// </summary>
    public Task<AppendResult> AppendAsync(IReadOnlyList<ExternalEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (!_catalogMode)
        {
            throw new InvalidOperationException($"store {Path} was opened with a fixed item catalog: external ids need SqlitePartitionStore.OpenServing");
        }

        var pending = new PendingBatch(null, events, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _writer ??= Task.Run(WriterLoop, CancellationToken.None);
        }

        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public int? FindUser(string external)
    {
        lock (_idsGate)
        {
            return _userIds.TryGetValue(external, out int id) ? id : null;
        }
    }

    /// <inheritdoc />
    public string UserName(int user)
    {
        lock (_idsGate)
        {
            return user >= 0 && user < _userNames.Count ? _userNames[user] : user.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <inheritdoc />
    public int? FindItem(string external)
    {
        lock (_idsGate)
        {
            return _itemIds.TryGetValue(external, out int id) ? id : null;
        }
    }

    /// <inheritdoc />
    public Item? FindItemMetadata(string external)
    {
        lock (_idsGate)
        {
            return _itemIds.TryGetValue(external, out int id) ? _items[id] : null;
        }
    }

    /// <inheritdoc />
    public Dataset CatalogSnapshot()
    {
        lock (_idsGate)
        {
            return _catalogSnapshot ??= CatalogDatasetLocked();
        }
    }

    /// <inheritdoc />
    public int UpsertItems(IReadOnlyList<ItemMetadata> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (!_catalogMode)
        {
            throw new InvalidOperationException($"store {Path} was opened with a fixed item catalog: the catalog needs SqlitePartitionStore.OpenServing");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var changes = new List<Item>();
            var fresh = new Dictionary<string, int>(StringComparer.Ordinal);
            lock (_idsGate)
            {
                foreach (ItemMetadata m in items)
                {
                    ArgumentException.ThrowIfNullOrWhiteSpace(m.Id);
                    if (!_itemIds.TryGetValue(m.Id, out int id) && !fresh.TryGetValue(m.Id, out id))
                    {
                        id = _items.Count + fresh.Count;
                        fresh[m.Id] = id;
                    }

                    var item = new Item(id, m.Id, string.IsNullOrWhiteSpace(m.Title) ? m.Id : m.Title, m.Year, [.. m.Categories], [.. m.Tags], m.Text);
                    if (id < _items.Count && SameMetadata(_items[id], item))
                    {
                        continue;
                    }

                    changes.RemoveAll(c => c.Id == id);
                    changes.Add(item);
                }
            }

            ChangeCatalogLocked(changes);
            return changes.Count;
        }
    }

    /// <summary>How reasons name a user: its external id in a serving store, else the dense id.</summary>
    private string UserLabel(int user)
    {
        if (!_catalogMode)
        {
            return user.ToString(CultureInfo.InvariantCulture);
        }

        lock (_idsGate)
        {
            return user >= 0 && user < _userNames.Count ? $"'{_userNames[user]}'" : user.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Refuses another program's SQLite database: creating Liber's tables in it would change a file that is not ours.</summary>
    private static void CheckIsLiberStore(SqliteConnection db, string path)
    {
        using SqliteCommand c = db.CreateCommand();
        c.CommandText = "SELECT COUNT(*), COUNT(CASE WHEN name = 'meta' THEN 1 END) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
        using SqliteDataReader r = c.ExecuteReader();
        r.Read();
        long tables = r.GetInt64(0);
        bool hasMeta = r.GetInt64(1) > 0;
        r.Close();
        if (tables > 0 && (!hasMeta || GetMeta(db, null, "schema") is null))
        {
            throw new StoreException(StoreProblem.NotAStore, $"store {path} is not a Liber store (an SQLite database with {tables} other tables and no Liber schema): give a new file name or an existing store");
        }
    }

    private static void CheckSchema(SqliteConnection db, SqliteTransaction tx, string path)
    {
        string? existing = GetMeta(db, tx, "schema");
        if (existing is not null && existing != SchemaVersion)
        {
            throw new ArgumentException($"store {path} has schema {existing}; this version of liber reads schema {SchemaVersion} (external ids, item catalog, interest jobs): rebuild it into a new store file (its events replay idempotently), e.g. liber partition --store NEW");
        }

        if (existing is null)
        {
            SetMeta(db, tx, "schema", SchemaVersion);
        }
    }

    private static void CreateServingTables(SqliteConnection db, SqliteTransaction tx) => Execute(db, """
        CREATE TABLE IF NOT EXISTS user_ids(external TEXT PRIMARY KEY, user INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS items(item INTEGER PRIMARY KEY, external TEXT NOT NULL UNIQUE, title TEXT NOT NULL, year INTEGER,
            categories TEXT NOT NULL, tags TEXT NOT NULL, text TEXT);
        CREATE TABLE IF NOT EXISTS interest_jobs(user INTEGER NOT NULL, number INTEGER NOT NULL, status INTEGER NOT NULL, attempts INTEGER NOT NULL,
            error TEXT, not_before INTEGER NOT NULL, lease_until INTEGER NOT NULL, summary TEXT, shift TEXT, summary_vec BLOB, shift_vec BLOB,
            events BLOB NOT NULL, PRIMARY KEY(user, number)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS interest_jobs_open ON interest_jobs(user, number) WHERE status <> 1;
        """, tx);

    private static bool SameMetadata(Item a, Item b) =>
        a.Title == b.Title && a.Year == b.Year && a.Text == b.Text && a.Categories.SequenceEqual(b.Categories, StringComparer.Ordinal) && a.Tags.SequenceEqual(b.Tags, StringComparer.Ordinal);

    private static PartitionEvent[] EventsOf(Partition p, List<PartitionEvent> candidates)
    {
        var events = new PartitionEvent[p.EventIds.Length];
        int from = 0;
        for (int i = 0; i < events.Length; i++)
        {
            long id = p.EventIds[i];
            int at = candidates.FindIndex(from, e => e.EventId == id);
            if (at < 0)
            {
                at = candidates.FindIndex(e => e.EventId == id);
            }

            events[i] = at >= 0 ? candidates[at] : throw new InvalidOperationException($"partition {p.Number} of user {p.User}: event {id} is not among the cached events");
            from = at + 1 < candidates.Count ? at + 1 : 0;
        }

        return events;
    }

    private SqliteConnection Reader()
    {
        ObjectDisposedException.ThrowIf(_reader is null, this);
        return _reader;
    }

    /// <summary>Loads ids and catalog, opens the read connection and frees every lease (a reopened store owns its jobs again).</summary>
    private void LoadServingState()
    {
        using (SqliteCommand c = _db.CreateCommand())
        {
            c.CommandText = "SELECT user, external FROM user_ids ORDER BY user";
            using SqliteDataReader r = c.ExecuteReader();
            while (r.Read())
            {
                int id = r.GetInt32(0);
                if (id != _userNames.Count)
                {
                    throw new InvalidDataException($"store {Path}: user ids are not dense (found {id} after {_userNames.Count - 1})");
                }

                _userNames.Add(r.GetString(1));
                _userIds[r.GetString(1)] = id;
            }
        }

        using (SqliteCommand c = _db.CreateCommand())
        {
            c.CommandText = "SELECT item, external, title, year, categories, tags, text FROM items ORDER BY item";
            using SqliteDataReader r = c.ExecuteReader();
            while (r.Read())
            {
                int id = r.GetInt32(0);
                if (id != _items.Count)
                {
                    throw new InvalidDataException($"store {Path}: item ids are not dense (found {id} after {_items.Count - 1})");
                }

                _items.Add(new Item(id, r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt32(3),
                    JsonSerializer.Deserialize<string[]>(r.GetString(4)) ?? [], JsonSerializer.Deserialize<string[]>(r.GetString(5)) ?? [], r.IsDBNull(6) ? null : r.GetString(6)));
                _itemIds[r.GetString(1)] = id;
            }
        }

        Execute(_db, "UPDATE interest_jobs SET lease_until = 0 WHERE lease_until <> 0");
        _insertJob = _db.CreateCommand();
        _insertJob.CommandText = "INSERT INTO interest_jobs(user, number, status, attempts, not_before, lease_until, events) VALUES ($user, $number, 0, 0, 0, 0, $events)";
        _insertJob.Parameters.Add(new SqliteParameter { ParameterName = "$user" });
        _insertJob.Parameters.Add(new SqliteParameter { ParameterName = "$number" });
        _insertJob.Parameters.Add(new SqliteParameter { ParameterName = "$events" });
        _reader = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        _reader.Open();
        Execute(_reader, "PRAGMA busy_timeout=5000");
    }

    private void DisposeServing()
    {
        _insertJob?.Dispose();
        _reader?.Dispose();
        _reader = null;
    }

    private void SaveNewUserIds(SqliteTransaction tx)
    {
        if (_unsavedUsers.Count == 0)
        {
            return;
        }

        using SqliteCommand c = _db.CreateCommand();
        c.Transaction = tx;
        c.CommandText = "INSERT OR IGNORE INTO user_ids(external, user) VALUES ($e, $u)";
        SqliteParameter pe = c.Parameters.Add("$e", SqliteType.Text), pu = c.Parameters.Add("$u", SqliteType.Integer);
        foreach ((int user, string external) in _unsavedUsers)
        {
            pe.Value = external;
            pu.Value = user;
            c.ExecuteNonQuery();
        }
    }

    /// <summary>Turns the group's batches into dense events: new items get bare catalog rows (one catalog change), new users dense ids saved with the events.</summary>
    private List<IReadOnlyList<StoreEvent>> ResolveGroupLocked(List<PendingBatch> group)
    {
        var batches = new List<IReadOnlyList<StoreEvent>>(group.Count);
        var newItems = new List<Item>();
        lock (_idsGate)
        {
            var fresh = new HashSet<string>(StringComparer.Ordinal);
            foreach (PendingBatch g in group)
            {
                foreach (ExternalEvent e in g.External ?? [])
                {
                    if (!_itemIds.ContainsKey(e.Item) && fresh.Add(e.Item))
                    {
                        newItems.Add(Item.Bare(_items.Count + newItems.Count, e.Item));
                    }
                }
            }
        }

        ChangeCatalogLocked(newItems);
        lock (_idsGate)
        {
            foreach (PendingBatch g in group)
            {
                if (g.Events is not null)
                {
                    batches.Add(g.Events);
                    continue;
                }

                var dense = new StoreEvent[g.External!.Count];
                for (int i = 0; i < dense.Length; i++)
                {
                    ExternalEvent e = g.External[i];
                    if (!_userIds.TryGetValue(e.User, out int user))
                    {
                        user = _userNames.Count;
                        _userIds.Add(e.User, user);
                        _userNames.Add(e.User);
                        _unsavedUsers.Add((user, e.User));
                    }

                    dense[i] = new StoreEvent(user, e.EventId, _itemIds[e.Item], e.Timestamp, e.Rating);
                }

                batches.Add(dense);
            }
        }

        return batches;
    }

    /// <summary>
    /// Writes new or changed items in one transaction with a checkpoint of every engine, then rebuilds the item
    /// features and drops the engines (they reload from the checkpoint under the new features). Recovery thus never
    /// replays an event under other item features than it was applied with.
    /// </summary>
    private void ChangeCatalogLocked(List<Item> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }

        CheckpointLocked(tx =>
        {
            using SqliteCommand c = _db.CreateCommand();
            c.Transaction = tx;
            c.CommandText = "INSERT INTO items(item, external, title, year, categories, tags, text) VALUES ($id, $ext, $title, $year, $cats, $tags, $text) " +
                "ON CONFLICT(item) DO UPDATE SET title = excluded.title, year = excluded.year, categories = excluded.categories, tags = excluded.tags, text = excluded.text";
            foreach (Item it in changes)
            {
                c.Parameters.Clear();
                c.Parameters.AddWithValue("$id", it.Id);
                c.Parameters.AddWithValue("$ext", it.ExternalId);
                c.Parameters.AddWithValue("$title", it.Title);
                c.Parameters.AddWithValue("$year", it.Year is int y ? y : DBNull.Value);
                c.Parameters.AddWithValue("$cats", JsonSerializer.Serialize(it.Categories));
                c.Parameters.AddWithValue("$tags", JsonSerializer.Serialize(it.Tags));
                c.Parameters.AddWithValue("$text", (object?)it.Text ?? DBNull.Value);
                c.ExecuteNonQuery();
            }
        });
        lock (_idsGate)
        {
            foreach (Item it in changes.OrderBy(i => i.Id))
            {
                if (it.Id < _items.Count)
                {
                    _items[it.Id] = it;
                }
                else
                {
                    _items.Add(it);
                    _itemIds[it.ExternalId] = it.Id;
                }
            }

            _catalogSnapshot = null;
        }

        _features = ItemFeatures.Build(CatalogSnapshot(), _tokenCounter!);
        _engines.Clear();
    }

    /// <summary>The catalog as a data set without events (caller holds <see cref="_idsGate"/> or owns the store alone).</summary>
    private Dataset CatalogDatasetLocked()
    {
        var ids = new IdMap();
        foreach (Item it in _items)
        {
            ids.GetOrAdd(it.ExternalId.AsSpan());
        }

        return new Dataset("serve", Path, new IdMap(), ids, new EventTable(), [.. _items], _items.Count, [], RatingScale.FiveStars, new LoadReport());
    }

    /// <summary>Remembers token counts by text: rebuilding the item features after a catalog change then tokenizes only new lines.</summary>
    private sealed class MemoTokenCounter(ITokenCounter inner) : ITokenCounter
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

        public string Name => inner.Name;

        public int Count(string text) => _counts.GetOrAdd(text, inner.Count);
    }
}
