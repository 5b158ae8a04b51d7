using System.Collections.Concurrent;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Store;

namespace Liber.Serve;

/// <summary>A model that scores candidates for a user state (the checkpoint's <c>OnlineScorer</c> behind an interface of the service's own).</summary>
public interface IRankModel : IDisposable
{
    /// <summary>Model name, e.g. din+liber(attention).</summary>
    string ModelName { get; }

    /// <summary>Dimension the partition vectors must have; null when the model has no LIBER fusion.</summary>
    int? FusionInputSize { get; }

    /// <summary>Most recent history events the model reads (L; more for long-history backbones; <see cref="int.MaxValue"/> for all).</summary>
    int HistoryWindow { get; }

    /// <summary>Partitions the model reads (P).</summary>
    int MaxPartitions { get; }

    /// <summary>Tells the model an item's categories (items new to, or changed since, the checkpoint).</summary>
    void UpsertItem(string itemId, IReadOnlyList<string> categories);

    /// <summary>CTR scores of <paramref name="candidates"/> for the user with this history (oldest first) and these partition vectors (oldest first; shift null for a user's first partition). Safe under concurrent calls.</summary>
    float[] Score(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions);

    /// <summary>
    /// <see cref="Score"/> for request handlers: waits for a forward slot without holding a thread, and gives up when
    /// <paramref name="cancellationToken"/> fires (a client that went away costs no forward pass).
    /// </summary>
    Task<float[]> ScoreAsync(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions, CancellationToken cancellationToken);

    /// <summary>Whether the model reads each candidate's point-in-time statistics (a checkpoint trained with <c>--stats on</c>).</summary>
    bool ReadsStats => false;

    /// <summary><see cref="ScoreAsync(string, IReadOnlyList{ValueTuple{string, float}}, IReadOnlyList{string}, IReadOnlyList{ValueTuple{float[], float[]}}?, CancellationToken)"/> with each candidate's 8 statistics (<see cref="ReadsStats"/>).</summary>
    Task<float[]> ScoreAsync(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions, IReadOnlyList<float[]>? stats, CancellationToken cancellationToken) =>
        ScoreAsync(user, history, candidates, partitions, cancellationToken);

    /// <summary>
    /// UIF's attention weight of each partition the model reads for <paramref name="candidate"/> (the last <see cref="MaxPartitions"/>
    /// of <paramref name="partitions"/>, oldest first), or null for a model without LIBER fusion.
    /// </summary>
    Task<float[]?> AttentionAsync(string user, IReadOnlyList<(string Item, float Rating)> history, string candidate, IReadOnlyList<(float[] Summary, float[]? Shift)> partitions, float[]? stats, CancellationToken cancellationToken) =>
        Task.FromResult<float[]?>(null);
}

/// <summary>The service's shared state: store, options, metrics, the rank model and the worker's wake-up signal.</summary>
public sealed class ServeState : IDisposable
{
    private readonly Dictionary<string, UserProfile> _profiles = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<int, (long Version, IReadOnlyList<InterestJob> Jobs)> _jobs = new();
    private readonly ConcurrentDictionary<int, long> _versions = new();

    /// <summary>Opens the embedded SQLite store at <see cref="ServeOptions.StorePath"/> (and the model, when a checkpoint is given) and seeds the catalog from <see cref="ServeOptions.Seed"/>.</summary>
    public ServeState(ServeOptions options, Func<string, IRankModel>? loadModel = null)
        : this(Checked(options), OpenEmbedded(options), loadModel)
    {
    }

    /// <summary>Serves from <paramref name="store"/> (owned from here on: disposed with the state, or at once when the state cannot start), loading the model when a checkpoint is given, and seeds the catalog.</summary>
    public ServeState(ServeOptions options, IServingStore store, Func<string, IRankModel>? loadModel = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        Options = Checked(options);
        Store = store;
        try
        {
            Metrics = new ServeMetrics(Store);
            if (options.Seed is Dataset seed)
            {
                Store.UpsertItems([.. seed.Catalog.Select(i => new ItemMetadata(i.ExternalId, i.Title, i.Year, i.Categories, i.Tags, i.Text))]);
                for (int u = 0; u < seed.Profiles.Count; u++)
                {
                    if (seed.Profiles[u] is UserProfile p)
                    {
                        _profiles[seed.Users.External(u)] = p;
                    }
                }
            }

            if (options.CheckpointDirectory is string dir)
            {
                Model = (loadModel ?? throw new ArgumentException("--checkpoint: no scorer is available in this build"))(dir);
                if (Model.ReadsStats)
                {
                    Stats = Store is ISharedStatsStore shared ? shared.Statistics(options.Scale) : CountStoredEvents(Store, options.Scale);
                }
            }
        }
        catch
        {
            Store.Dispose();
            throw;
        }
    }

    /// <summary>The options.</summary>
    public ServeOptions Options { get; }

    /// <summary>The UBSP store with ids, catalog and job queue.</summary>
    public IServingStore Store { get; }

    /// <summary>The embedded store of <paramref name="options"/>: SQLite at <see cref="ServeOptions.StorePath"/>.</summary>
    public static IServingStore OpenEmbedded(ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return SqlitePartitionStore.OpenServing(options.StorePath, PartitionPolicies.Create(options.Partition), options.Partition.Caps, new Cl100kTokenCounter(), options.Store);
    }

    private static ServeOptions Checked(ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }

    /// <summary>
    /// The point-in-time statistics, kept when the model reads them (a <c>--stats on</c> checkpoint), else null: counters of
    /// this process (<see cref="OnlineStats"/>, counted from the store at start and then as events are applied), or the
    /// store's own shared ones (<see cref="ISharedStatsStore"/>, a cluster's).
    /// </summary>
    public IStatsSource? Stats { get; }

    /// <summary>Counts every applied event of the store into fresh counters (at start; later events are added as they are applied).</summary>
    public static OnlineStats CountStoredEvents(IServingStore store, RatingScale scale)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(scale);
        var stats = new OnlineStats(scale, scale.DefaultThreshold);
        IReadOnlyList<Item> catalog = store.CatalogSnapshot().Catalog;
        foreach (int u in store.Users())
        {
            string user = store.UserName(u);
            IEnumerable<PartitionEvent> events = store.Jobs(u).SelectMany(j => j.Events);
            if (store.State(u) is UserPartitionState s)
            {
                events = events.Concat(s.Cache);
            }

            foreach (PartitionEvent e in events)
            {
                Item item = catalog[e.Item];
                stats.Add(user, item.ExternalId, item.Categories, e.Rating);
            }
        }

        return stats;
    }

    /// <summary>Counts the events a batch applied (<see cref="AppendResult.AppliedIndices"/>) into <see cref="Stats"/>, when this process keeps them (a shared store counts its own).</summary>
    public void CountApplied(IReadOnlyList<ExternalEvent> batch, AppendResult result)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(result);
        if (Stats is not OnlineStats stats)
        {
            return;
        }

        foreach (int i in result.AppliedIndices)
        {
            ExternalEvent e = batch[i];
            stats.Add(e.User, e.Item, Store.FindItemMetadata(e.Item)?.Categories ?? [], e.Rating);
        }
    }

    /// <summary>The metrics.</summary>
    public ServeMetrics Metrics { get; }

    /// <summary>The rank model, or null without a checkpoint.</summary>
    public IRankModel? Model { get; }

    /// <summary>Released when partitions close (the worker waits on it between polls).</summary>
    public SemaphoreSlim Wake => _wake;

    /// <summary>The profile of an external user id from the seed data set, or null.</summary>
    public UserProfile? Profile(string user) => _profiles.GetValueOrDefault(user);

    /// <summary>Wakes the worker.</summary>
    public void Signal()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already signalled
        }
    }

    /// <summary>A user's partitions with their jobs (cached until the user's partitions or jobs change).</summary>
    public IReadOnlyList<InterestJob> Jobs(int user)
    {
        long version = _versions.GetValueOrDefault(user);
        if (_jobs.TryGetValue(user, out var cached) && cached.Version == version)
        {
            return cached.Jobs;
        }

        IReadOnlyList<InterestJob> jobs = Store.Jobs(user);
        if (_jobs.Count > 10_000)
        {
            _jobs.Clear();
        }

        _jobs[user] = (version, jobs);
        return jobs;
    }

    /// <summary>Drops the cached jobs of these users.</summary>
    public void Invalidate(IEnumerable<int> users)
    {
        ArgumentNullException.ThrowIfNull(users);
        foreach (int u in users)
        {
            _versions.AddOrUpdate(u, 1, (_, v) => v + 1);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Model?.Dispose();
        Store.Dispose();
        _wake.Dispose();
    }
}
