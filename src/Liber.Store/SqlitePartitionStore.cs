using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// The embedded UBSP store: one SQLite file in WAL mode, organised as an event log.
/// <list type="bullet">
/// <item><c>log</c>: every applied event in apply order (append-only; its ids are the idempotency record);</item>
/// <item><c>partitions</c>: the immutable closed partitions with their event ids, written in the same transaction as the events that closed them;</item>
/// <item><c>users</c>: snapshots of each user's engine state (short-term cache, counters) as of the last checkpoint.</item>
/// </list>
/// Each <see cref="Append"/> is one transaction (log rows + partitions), so a crash loses no acknowledged event and
/// leaves no half-written partition. Engine states are snapshotted every <see cref="SqliteStoreOptions.CheckpointEvents"/>
/// events and on dispose; opening a store replays the log after the last checkpoint through the engines, which gives
/// exactly the state before the crash (the engine is deterministic) and cross-checks the partitions it re-closes.
/// Writing only the log per batch keeps a commit to a few pages whatever the users or ids: rewriting each touched
/// user's cache and a random-keyed id index per batch cost ten times more (measured), hence this layout.
/// Applied ids are also held in memory (user and a content fingerprint, about 40 bytes each) to tell duplicates from
/// conflicts. Single writer: calls are serialised by a lock, and one open store owns the file (an OS lock on
/// <c>&lt;store&gt;.lock</c>, see <see cref="StoreLock"/>): a second open, here or in another process, is refused.
/// <para>
/// The store is split by role, every role writing through one connection inside the transaction it is handed
/// (<see cref="StoreContext"/>):
/// </para>
/// <list type="bullet">
/// <item>the partition log and its recovery: this class (engines, log, partitions, checkpoints, replay, reads);</item>
/// <item><see cref="GroupCommitter"/>: the writer loop of <see cref="AppendAsync(IReadOnlyList{StoreEvent}, CancellationToken)"/>, one transaction per group of queued batches;</item>
/// <item><see cref="ExternalIdMap"/>: external user ids, saved in the transaction of the first events that use them;</item>
/// <item><see cref="SqliteItemCatalog"/>: the item catalog, whose changes are written with a checkpoint of the engines;</item>
/// <item><see cref="SqliteJobQueue"/>: the interest jobs, one written with each closed partition, leased and recorded by the nearline worker.</item>
/// </list>
/// </summary>
public sealed partial class SqlitePartitionStore : IPartitionStore
{
    private const string SchemaVersion = "2";
    private const int LogRowsPerStatement = 256;
    private const int Corrupt = 11;
    private const int NotADatabase = 26;

    private readonly object _gate = new();
    private readonly SqliteConnection _db;
    private readonly StoreLock _owner;
    private readonly string _name;
    private readonly IPartitionPolicy _policy;
    private readonly PartitionCaps _caps;
    private ItemFeatures _features;
    private readonly SqliteStoreOptions _options;
    private readonly Dictionary<int, UserPartitioner> _engines = [];
    private readonly HashSet<int> _dirty = [];
    private readonly Dictionary<long, AppliedId> _applied = [];
    private readonly List<PartitionEvent> _scratch = [];
    private readonly SqliteCommand _loadUser;
    private readonly SqliteCommand _saveUser;
    private readonly SqliteCommand _insertPartition;
    private readonly SqliteCommand _countPartitions;
    private readonly StoreContext _context;
    private readonly ExternalIdMap _ids;
    private readonly SqliteItemCatalog _catalog;
    private readonly SqliteJobQueue _jobs;
    private readonly GroupCommitter _committer;
    private bool _disposed;
    private long _lastSeq;
    private long _sinceCheckpoint;

    private SqlitePartitionStore(string name, string path, SqliteConnection db, StoreLock owner, IPartitionPolicy policy, PartitionCaps caps, string tokenizer, SqliteStoreOptions options, bool catalog)
    {
        Path = path;
        _name = name;
        _db = db;
        _owner = owner;
        _policy = policy;
        _caps = caps;
        _features = null!; // set by OpenCore before any use
        _options = options;
        _catalogMode = catalog;
        Policy = Describe(policy, caps, tokenizer);
        _context = new StoreContext(db, path, this);
        _ids = new ExternalIdMap(_context);
        _catalog = new SqliteItemCatalog(_context);
        _jobs = new SqliteJobQueue(_context);
        _committer = new GroupCommitter(_gate, group => ApplyGroup(ResolveGroupLocked(group)));
        _loadUser = StoreRows.Prepare(db, "SELECT next_index, partition_count, last_ts, cache FROM users WHERE user = $user", "$user");
        _saveUser = StoreRows.Prepare(
            db,
            "INSERT INTO users(user, next_index, partition_count, last_ts, cache) VALUES ($user, $next, $count, $last, $cache) " +
            "ON CONFLICT(user) DO UPDATE SET next_index = excluded.next_index, partition_count = excluded.partition_count, last_ts = excluded.last_ts, cache = excluded.cache",
            "$user", "$next", "$count", "$last", "$cache");
        _insertPartition = StoreRows.Prepare(
            db,
            "INSERT INTO partitions(user, number, start_index, end_index, start_time, end_time, prompt_tokens, content_hash, event_ids) " +
            "VALUES ($user, $number, $start, $end, $t0, $t1, $tokens, $hash, $ids)",
            "$user", "$number", "$start", "$end", "$t0", "$t1", "$tokens", "$hash", "$ids");
        _countPartitions = StoreRows.Prepare(db, "SELECT content_hash FROM partitions WHERE user = $user AND number = $number", "$user", "$number");
    }

    /// <summary>The store file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public string Policy { get; }

    /// <summary>Engines currently held in memory.</summary>
    public int LoadedUsers => _engines.Count;

    /// <summary>Events replayed from the log when the store was opened (non-zero after a crash or an unclean close).</summary>
    public long Replayed { get; private set; }

    /// <summary>
    /// Opens a store, creating it when the file does not exist, and recovers the engines' states from the last
    /// checkpoint and the log. An existing store must have been created with the same policy, caps and tokenizer:
    /// partitions closed under other rules would not be comparable.
    /// </summary>
    public static SqlitePartitionStore Open(string path, IPartitionPolicy policy, PartitionCaps caps, ItemFeatures features, SqliteStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        return OpenCore(path, policy, caps, features.Tokenizer, _ => features, catalog: false, options);
    }

    private static SqlitePartitionStore OpenCore(string path, IPartitionPolicy policy, PartitionCaps caps, string tokenizer, Func<SqlitePartitionStore, ItemFeatures> features, bool catalog, SqliteStoreOptions? options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(policy);
        options ??= new SqliteStoreOptions();
        options.Validate();
        caps.Validate();
        string full = System.IO.Path.GetFullPath(path);
        string? dir = System.IO.Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"store {path}: folder {dir} does not exist");
        }

        bool lockExisted = File.Exists(StoreLock.LockPath(full));
        StoreLock owner = StoreLock.Acquire(path, full);
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        SqlitePartitionStore? store = null;
        try
        {
            db.Open();
            try
            {
                StoreRows.Execute(db, "PRAGMA journal_mode=WAL");
                StoreRows.Execute(db, options.Durability == Durability.Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
                StoreRows.Execute(db, "PRAGMA busy_timeout=5000");
                StoreRows.Execute(db, "PRAGMA wal_autocheckpoint=16384");
                CheckIsLiberStore(db, path);
            }
            catch (SqliteException e) when (e.SqliteErrorCode is NotADatabase or Corrupt)
            {
                throw new StoreException(StoreProblem.NotAStore, $"store {path} is not a Liber store ({(e.SqliteErrorCode == NotADatabase ? "not an SQLite database" : "a damaged SQLite database")}): give a new file name or an existing store", e);
            }

            using (SqliteTransaction tx = db.BeginTransaction())
            {
                StoreRows.Execute(db, """
                    CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS log(seq INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, user INTEGER NOT NULL,
                        item INTEGER NOT NULL, ts INTEGER NOT NULL, rating REAL NOT NULL, late INTEGER NOT NULL);
                    CREATE TABLE IF NOT EXISTS partitions(
                        user INTEGER NOT NULL, number INTEGER NOT NULL, start_index INTEGER NOT NULL, end_index INTEGER NOT NULL,
                        start_time INTEGER NOT NULL, end_time INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
                        content_hash TEXT NOT NULL, event_ids BLOB NOT NULL, PRIMARY KEY(user, number)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS users(user INTEGER PRIMARY KEY, next_index INTEGER NOT NULL, partition_count INTEGER NOT NULL,
                        last_ts INTEGER, cache BLOB NOT NULL);
                    """, tx);
                CheckSchema(db, tx, path);
                CreateServingTables(db, tx);
                CheckOrSet(db, tx, path, "policy", Describe(policy, caps, tokenizer));
                StoreRows.SetMeta(db, tx, "owner", owner.Owner);
                tx.Commit();
            }

            store = new SqlitePartitionStore(path, full, db, owner, policy, caps, tokenizer, options, catalog);
            store.LoadServingState();
            store._features = features(store);
            store.Recover();
            return store;
        }
        catch
        {
            if (store is not null)
            {
                store.DisposeCommands();
                store._jobs.Dispose();
            }

            db.Dispose();
            owner.Dispose();
            if (!lockExisted && store is null)
            {
                // A mistaken --store (a text file, a bad folder) leaves no lock file behind.
                File.Delete(StoreLock.LockPath(full));
            }

            throw;
        }
    }

    /// <inheritdoc />
    public AppendResult Append(IReadOnlyList<StoreEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ApplyGroup([events])[0];
        }
    }

    /// <summary>
    /// Appends a batch through the group committer: batches that arrive while a commit is being flushed are applied
    /// together, in arrival order, in the next transaction (one fsync for all of them). The task completes when the
    /// batch is durable, with the same outcome <see cref="Append"/> would give; a failed commit fails every batch of
    /// its group and none of them is applied.
    /// </summary>
    public Task<AppendResult> AppendAsync(IReadOnlyList<StoreEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        return Enqueue(PendingBatch.Of(events, null), cancellationToken);
    }

    /// <summary>Hands a batch to the group committer, starting its writer on first use.</summary>
    private Task<AppendResult> Enqueue(PendingBatch pending, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _committer.StartLocked();
        }

        ObjectDisposedException.ThrowIf(!_committer.TryQueue(pending), this);
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Applies batches in order in one transaction; the caller holds the lock.</summary>
    private AppendResult[] ApplyGroup(List<IReadOnlyList<StoreEvent>> batches)
    {
        var results = new AppendResult[batches.Count];
        var fresh = new Dictionary<long, StoreEvent>();
        var unnamed = new List<(List<RejectedEvent> List, int At, StoreEvent E)>();
        var logRows = new List<(StoreEvent E, bool Late)>();
        var touched = new HashSet<int>();
        using SqliteTransaction tx = _db.BeginTransaction();
        try
        {
            Enlist(tx);
            _ids.SaveNew(tx);
            for (int b = 0; b < batches.Count; b++)
            {
                IReadOnlyList<StoreEvent> events = batches[b];
                var rejected = new List<RejectedEvent>();
                var conflicts = new List<RejectedEvent>();
                var closed = new List<Partition>();
                int duplicates = 0, applied = 0;
                var appliedIndices = new List<int>();
                for (int i = 0; i < events.Count; i++)
                {
                    StoreEvent e = events[i];
                    if (e.User < 0 || e.Item < 0 || e.Item >= _features.ItemCount || !float.IsFinite(e.Rating))
                    {
                        rejected.Add(new RejectedEvent(i, e.EventId, e.User < 0 ? $"user id {e.User} is negative"
                            : !float.IsFinite(e.Rating) ? $"rating {e.Rating} is not a finite number"
                            : $"item id {e.Item} is not in the catalog (0..{_features.ItemCount - 1})"));
                        continue;
                    }

                    if (fresh.TryGetValue(e.EventId, out StoreEvent earlier))
                    {
                        if (SameContent(earlier, e))
                        {
                            duplicates++;
                        }
                        else
                        {
                            conflicts.Add(new RejectedEvent(i, e.EventId, ConflictReason(earlier, e)));
                        }

                        continue;
                    }

                    if (_applied.TryGetValue(e.EventId, out AppliedId known))
                    {
                        if (known.Matches(e))
                        {
                            duplicates++;
                        }
                        else
                        {
                            // The first content is in the log only: named for the whole group by one query below.
                            unnamed.Add((conflicts, conflicts.Count, e));
                            conflicts.Add(new RejectedEvent(i, e.EventId, string.Empty));
                        }

                        continue;
                    }

                    UserPartitioner engine = Engine(e.User);
                    bool late = e.Timestamp < engine.LastTimestamp.GetValueOrDefault(long.MinValue);
                    if (late && !(_options.LateEvents == LateEventRule.InsertIfCacheSpans && engine.CacheSpans(e.Timestamp)))
                    {
                        string why = _options.LateEvents == LateEventRule.Reject
                            ? "the late-event rule is reject"
                            : "the short-term cache does not span its time, and closed partitions are immutable";
                        rejected.Add(new RejectedEvent(i, e.EventId, $"event {e.EventId} of user {UserLabel(e.User)} at {e.Timestamp} is older than the user's last event at {engine.LastTimestamp} ({why})"));
                        continue;
                    }

                    touched.Add(e.User);
                    PartitionEvent pe = e.ToPartitionEvent();
                    _scratch.Clear();
                    _scratch.AddRange(engine.Events);
                    _scratch.Add(pe);
                    foreach (Partition p in late ? engine.InsertIntoCache(pe) : engine.Append(pe))
                    {
                        SavePartition(p);
                        _jobs.Save(tx, p, EventsOf(p, _scratch));
                        closed.Add(p);
                    }

                    fresh[e.EventId] = e;
                    logRows.Add((e, late));
                    appliedIndices.Add(i);
                    applied++;
                }

                results[b] = new AppendResult { Applied = applied, AppliedIndices = appliedIndices, Duplicates = duplicates, Conflicts = conflicts, Rejected = rejected, Closed = closed };
            }

            NameConflicts(unnamed, tx);
            InsertLog(logRows);
            tx.Commit();
        }
        catch
        {
            // Nothing of the group is durable: the engines it touched go back to their durable state.
            Enlist(null);
            ReloadAfterFailure(touched);
            throw;
        }

        Enlist(null);
        _ids.Committed();
        foreach ((long id, StoreEvent e) in fresh)
        {
            _applied[id] = AppliedId.Of(e);
        }

        _lastSeq += logRows.Count;
        _dirty.UnionWith(touched);
        _sinceCheckpoint += logRows.Count;
        if (_sinceCheckpoint >= _options.CheckpointEvents)
        {
            CheckpointLocked();
        }

        return results;
    }

    /// <summary>Writes every changed user's engine state in one transaction, so that reopening replays nothing before this point.</summary>
    public void Checkpoint()
    {
        lock (_gate)
        {
            CheckpointLocked();
        }
    }

    /// <summary>Closes the file without a checkpoint, as a crash would leave it (tests of recovery).</summary>
    internal void CloseWithoutCheckpoint()
    {
        _committer.Complete();
        _committer.Writer?.GetAwaiter().GetResult();
        lock (_gate)
        {
            _disposed = true;
            DisposeCommands();
            _db.Dispose();
            _jobs.Dispose();
            _owner.Dispose();
        }
    }

    /// <summary>Finishes the batches queued by <see cref="AppendAsync(IReadOnlyList{StoreEvent}, CancellationToken)"/>, checkpoints and closes the store.</summary>
    public void Dispose()
    {
        _committer.Complete();
        Task? writer;
        lock (_gate)
        {
            writer = _committer.Writer;
        }

        writer?.GetAwaiter().GetResult();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                CheckpointLocked();
            }
            finally
            {
                DisposeCommands();
                _db.Dispose();
                _jobs.Dispose();
                _owner.Dispose();
            }
        }
    }

    private IEnumerable<SqliteCommand> Commands() => [_loadUser, _saveUser, _insertPartition, _countPartitions];

    private void DisposeCommands()
    {
        foreach (SqliteCommand c in Commands())
        {
            c.Dispose();
        }
    }

    private void Enlist(SqliteTransaction? tx)
    {
        foreach (SqliteCommand c in Commands())
        {
            c.Transaction = tx;
        }
    }
}
