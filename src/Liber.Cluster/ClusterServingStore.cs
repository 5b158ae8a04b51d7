using Liber.Cluster.Postgres;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Npgsql;

namespace Liber.Cluster;

/// <summary>
/// The serving store of one silo of the Liber cluster: the contract <c>liber serve</c> depends on
/// (<see cref="IServingStore"/>) over the user grains and Liber's tables in PostgreSQL. Appends go to the user grains
/// (<see cref="ClusterIngest"/>), which drain closed partitions into <c>liber_partitions</c> with a pending job each;
/// partitions, external user ids and the job queue are read from PostgreSQL, so every silo sees the same; a user's
/// short-term cache is read from the user's grain. The catalog is the one the silos were started with (the
/// <c>--dataset</c> seed, the same on every silo): metadata equal to it is accepted (nothing changes), anything else is
/// refused, because a catalog change would have to reach every silo's partitioning at once (docs/cluster.md).
/// The synchronous members block on a grain call where they need one (<see cref="State"/>); the service calls them
/// from thread-pool threads, where that is safe.
/// </summary>
public sealed class ClusterServingStore : IServingStore, ISharedStatsStore
{
    private readonly Func<IGrainFactory> _grains;
    private readonly LiberDatabase _db;
    private readonly UbspSettings _settings;
    private readonly Dataset _catalog;
    private readonly Dictionary<string, Item> _items;
    private readonly PostgresStats? _stats;
    private bool _disposed;

    /// <summary>
    /// A store over the grains of <paramref name="grains"/> (called on first use, so the store can be built before the silo
    /// starts), Liber's tables in <paramref name="db"/> (owned: disposed with the store) and the catalog of
    /// <paramref name="catalog"/>, which must be the one <paramref name="settings"/> were built from; with
    /// <paramref name="stats"/>, the cluster's shared point-in-time statistics (the user grains count into them; owned).
    /// </summary>
    public ClusterServingStore(Func<IGrainFactory> grains, LiberDatabase db, UbspSettings settings, Dataset catalog, PostgresStats? stats = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(catalog);
        if (catalog.Catalog.Count != settings.ItemCount)
        {
            throw new ArgumentException($"the catalog has {catalog.Catalog.Count} items and the partitioning settings {settings.ItemCount}: build both from the same data set", nameof(catalog));
        }

        _grains = grains;
        _db = db;
        _settings = settings;
        _catalog = catalog;
        _stats = stats;
        _items = new Dictionary<string, Item>(catalog.Catalog.Count, StringComparer.Ordinal);
        foreach (Item it in catalog.Catalog)
        {
            _items[it.ExternalId] = it;
        }

        var where = new NpgsqlConnectionStringBuilder(db.Source.ConnectionString);
        Path = $"postgresql://{where.Host}:{where.Port}/{where.Database}";
    }

    /// <inheritdoc />
    public string Path { get; }

    /// <inheritdoc />
    public string Policy => _settings.Description;

    /// <inheritdoc />
    public int KnownUsers => _db.Log.KnownUsers();

    /// <inheritdoc />
    public Task<AppendResult> AppendAsync(IReadOnlyList<ExternalEvent> events, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Append(events);
    }

    /// <summary>Not supported: the cluster assigns dense user ids itself; send events by external ids (<see cref="AppendAsync(IReadOnlyList{ExternalEvent}, CancellationToken)"/>).</summary>
    public AppendResult Append(IReadOnlyList<StoreEvent> events) => throw DenseAppend();

    /// <summary>Not supported: the cluster assigns dense user ids itself; send events by external ids.</summary>
    public Task<AppendResult> AppendAsync(IReadOnlyList<StoreEvent> events, CancellationToken cancellationToken = default) => throw DenseAppend();

    /// <inheritdoc />
    public IReadOnlyList<Partition> Partitions(int user) => [.. _db.Log.Partitions(user).Select(c => c.Partition)];

    /// <summary>Not supported: the cluster's idempotency is per user (docs/cluster.md), so an event id alone names no event.</summary>
    public bool IsApplied(long eventId) =>
        throw new NotSupportedException($"the cluster store {Path} keeps event ids per user (idempotency is per user): ask the user's grain, not the store");

    /// <inheritdoc />
    public IEnumerable<Partition> AllPartitions() => _db.Log.AllPartitions();

    /// <inheritdoc />
    public UserPartitionState? State(int user)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string external;
        try
        {
            external = _db.Log.UserName(user);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }

        UserSnapshot s = _grains().GetGrain<IUserGrain>(external).Snapshot().GetAwaiter().GetResult();
        return new UserPartitionState { User = user, NextIndex = s.Applied, PartitionCount = s.PartitionCount, LastTimestamp = s.LastTimestamp, Cache = s.Cache };
    }

    /// <inheritdoc />
    public IReadOnlyList<int> Users() => _db.Log.Users();

    /// <summary>
    /// Users and partitions from PostgreSQL; events applied counts the events in stored partitions, and events in caches is
    /// -1 (unknown): the caches live in the user grains, and summing them would activate every user's grain.
    /// </summary>
    public StoreTotals Totals() => new(_db.Log.KnownUsers(), _db.Log.PartitionedEvents(), _db.Log.Count(), -1);

    /// <inheritdoc />
    public int? FindUser(string external) => _db.Log.FindUser(external);

    /// <inheritdoc />
    public string UserName(int user) => _db.Log.UserName(user);

    /// <inheritdoc />
    public int? FindItem(string external) => _settings.FindItem(external);

    /// <summary>
    /// Accepts metadata equal to the fixed catalog (returns 0: nothing new or changed) and refuses any other, naming the
    /// first item that differs: the cluster's catalog is fixed at start (the <c>--dataset</c> seed of every silo).
    /// </summary>
    public int UpsertItems(IReadOnlyList<ItemMetadata> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (ItemMetadata m in items)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(m.Id);
            string why = !_items.TryGetValue(m.Id, out Item? known) ? "is not in the catalog"
                : !Same(known, m) ? "differs from the catalog" : "";
            if (why.Length > 0)
            {
                throw new NotSupportedException($"item {m.Id} {why}: the cluster's catalog is fixed when the silos start (the --dataset seed of every silo); restart the cluster with the new catalog");
            }
        }

        return 0;
    }

    /// <inheritdoc />
    public Item? FindItemMetadata(string external) => external is not null && _items.TryGetValue(external, out Item? it) ? it : null;

    /// <inheritdoc />
    public Dataset CatalogSnapshot() => _catalog;

    /// <summary>The shared statistics (counted by the user grains of every silo), when the cluster counts them under <paramref name="scale"/>.</summary>
    public IStatsSource Statistics(RatingScale scale)
    {
        ArgumentNullException.ThrowIfNull(scale);
        PostgresStats stats = _stats ?? throw new InvalidOperationException($"the cluster store {Path} counts no point-in-time statistics (\"statistics\": false in the cluster file): serve a checkpoint trained with --stats off");
        return stats.Scale == scale
            ? stats
            : throw new InvalidOperationException($"the cluster store {Path} counts statistics under rating scale {stats.Scale.Min}-{stats.Scale.Max}, the service runs {scale.Min}-{scale.Max}");
    }

    /// <inheritdoc />
    public long PendingJobs() => _db.Jobs.PendingJobs();

    /// <inheritdoc />
    public IReadOnlyList<InterestJob> Jobs(int user) => _db.Jobs.Jobs(user);

    /// <inheritdoc />
    public IReadOnlyList<JobLease> Lease(int maxUsers, int maxPerUser, long nowMs, long leaseMs) => _db.Jobs.Lease(maxUsers, maxPerUser, nowMs, leaseMs);

    /// <inheritdoc />
    public void Record(IReadOnlyList<JobOutcome> outcomes) => _db.Jobs.Record(outcomes);

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _stats?.Dispose(); // its writer commits what is queued, then the pool goes
            _db.Dispose();
        }
    }

    /// <summary>
    /// Sends the batch to the user grains. When a silo is unreachable (killed, or its users moving to the others) the grain
    /// calls fail with Orleans' message exceptions or time out: that is a <see cref="StoreProblem.Unavailable"/> store
    /// exception (503), since each user's part is applied whole or not at all and a resend applies only what is missing.
    /// </summary>
    private async Task<AppendResult> Append(IReadOnlyList<ExternalEvent> events)
    {
        try
        {
            return await ClusterIngest.AppendAsync(_grains(), events).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Orleans.Runtime.OrleansException or TimeoutException)
        {
            throw new StoreException(StoreProblem.Unavailable, $"cluster store {Path}: a silo is unreachable ({e.GetType().Name}: {e.Message.Split('\n')[0]}); the users it held move to the other silos within seconds: send the batch again", e);
        }
    }

    private static bool Same(Item a, ItemMetadata m) =>
        a.Title == (string.IsNullOrWhiteSpace(m.Title) ? m.Id : m.Title) && a.Year == m.Year && a.Text == m.Text
        && a.Categories.SequenceEqual(m.Categories, StringComparer.Ordinal) && a.Tags.SequenceEqual(m.Tags, StringComparer.Ordinal);

    private NotSupportedException DenseAppend() =>
        new($"the cluster store {Path} assigns dense user ids itself: send events by external user and item ids (AppendAsync of ExternalEvent, POST /v1/events)");
}
