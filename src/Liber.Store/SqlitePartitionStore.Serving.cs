using System.Globalization;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// The serving side of the store (schema 2): external ids, the item catalog and the interest job queue, each a role
/// of its own (<see cref="ExternalIdMap"/>, <see cref="SqliteItemCatalog"/>, <see cref="SqliteJobQueue"/>) that this
/// part delegates to under the store's locks.
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

    /// <summary>
    /// Opens (or creates) a serving store whose item features come from its own catalog (<see cref="IItemCatalog"/>)
    /// instead of a data set: items may be added while it runs, by <see cref="UpsertItems"/> or by first sight in
    /// an <see cref="AppendAsync(IReadOnlyList{ExternalEvent}, CancellationToken)"/> batch.
    /// </summary>
    public static SqlitePartitionStore OpenServing(string path, IPartitionPolicy policy, PartitionCaps caps, ITokenCounter tokens, SqliteStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return OpenCore(path, policy, caps, tokens.Name, s => s._catalog.FirstFeatures(tokens), catalog: true, options);
    }

    /// <summary>Users with an external id.</summary>
    public int KnownUsers => _ids.Count;

    /// <summary>Items in the catalog.</summary>
    public int CatalogCount => _catalog.Count;

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

        return Enqueue(PendingBatch.Of(null, events), cancellationToken);
    }

    /// <inheritdoc />
    public int? FindUser(string external) => _ids.Find(external);

    /// <inheritdoc />
    public string UserName(int user) => _ids.Name(user);

    /// <inheritdoc />
    public int? FindItem(string external) => _catalog.Find(external);

    /// <inheritdoc />
    public Item? FindItemMetadata(string external) => _catalog.FindMetadata(external);

    /// <inheritdoc />
    public Dataset CatalogSnapshot() => _catalog.Snapshot();

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
            List<Item> changes = _catalog.Changes(items);
            ChangeCatalogLocked(changes);
            return changes.Count;
        }
    }

    /// <inheritdoc />
    public long PendingJobs() => _jobs.Pending();

    /// <inheritdoc />
    public IReadOnlyList<InterestJob> Jobs(int user) => _jobs.Jobs(user);

    /// <inheritdoc />
    public IReadOnlyList<JobLease> Lease(int maxUsers, int maxPerUser, long nowMs, long leaseMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUsers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerUser, 1);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _jobs.LeaseLocked(maxUsers, maxPerUser, nowMs, leaseMs);
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
            _jobs.RecordLocked(outcomes);
        }
    }

    /// <summary>How reasons name a user: its external id in a serving store, else the dense id.</summary>
    private string UserLabel(int user) => _catalogMode ? _ids.Label(user) : user.ToString(CultureInfo.InvariantCulture);

    /// <summary>How reasons name an item: its external id in a serving store, else the dense id.</summary>
    private string ItemLabel(int item) => _catalogMode ? _catalog.Label(item) : item.ToString(CultureInfo.InvariantCulture);

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
        if (tables > 0 && (!hasMeta || StoreRows.GetMeta(db, null, "schema") is null))
        {
            throw new StoreException(StoreProblem.NotAStore, $"store {path} is not a Liber store (an SQLite database with {tables} other tables and no Liber schema): give a new file name or an existing store");
        }
    }

    private static void CheckSchema(SqliteConnection db, SqliteTransaction tx, string path)
    {
        string? existing = StoreRows.GetMeta(db, tx, "schema");
        if (existing is not null && existing != SchemaVersion)
        {
            throw new ArgumentException($"store {path} has schema {existing}; this version of liber reads schema {SchemaVersion} (external ids, item catalog, interest jobs): rebuild it into a new store file (its events replay idempotently), e.g. liber partition --store NEW");
        }

        if (existing is null)
        {
            StoreRows.SetMeta(db, tx, "schema", SchemaVersion);
        }
    }

    private static void CreateServingTables(SqliteConnection db, SqliteTransaction tx) =>
        StoreRows.Execute(db, ExternalIdMap.Schema + SqliteItemCatalog.Schema + SqliteJobQueue.Schema, tx);

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

    /// <summary>Loads ids and catalog, opens the read connection and frees every lease (a reopened store owns its jobs again).</summary>
    private void LoadServingState()
    {
        _ids.Load();
        _catalog.Load();
        _jobs.Open();
    }

    /// <summary>Turns the group's batches into dense events: new items get bare catalog rows (one catalog change), new users dense ids saved with the events.</summary>
    private List<IReadOnlyList<StoreEvent>> ResolveGroupLocked(List<PendingBatch> group)
    {
        var batches = new List<IReadOnlyList<StoreEvent>>(group.Count);
        ChangeCatalogLocked(_catalog.NewItems(group.SelectMany(g => g.External ?? []).Select(e => e.Item)));
        lock (_context.IdsGate)
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
                    dense[i] = new StoreEvent(_ids.GetOrAddLocked(e.User), e.EventId, _catalog.IdLocked(e.Item), e.Timestamp, e.Rating);
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

        CheckpointLocked(tx => _catalog.Write(tx, changes));
        _catalog.Apply(changes);
        _features = _catalog.RebuildFeatures();
        _engines.Clear();
    }
}
