using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Training;
using static TorchSharp.torch;

namespace Liber.Models.Serving;

/// <summary>One event of a user's history as the online scorer reads it.</summary>
/// <param name="Item">External item id.</param>
/// <param name="Rating">The rating as stored (the scorer divides it by the checkpoint's rating scale maximum, as the collator does).</param>
public readonly record struct HistoryEntry(string Item, float Rating);

/// <summary>The encoder vectors of one closed partition whose interest texts are ready.</summary>
/// <param name="Summary">Summary vector (length <see cref="OnlineScorer.FusionInputSize"/>).</param>
/// <param name="Shift">Shift vector, or null when the partition has none (a user's first partition).</param>
public sealed record PartitionVector(float[] Summary, float[]? Shift);

/// <summary>
/// Scores one user against N candidate items with a trained checkpoint, building the same <see cref="CtrBatch"/>
/// the offline <see cref="Collator"/> builds for a sample with that history and those visible partitions:
/// <list type="bullet">
/// <item>history: the last L entries of the given history (oldest first), ratings divided by the scale maximum;</item>
/// <item>LIBER: the last P given partitions, left-aligned oldest first, recency rank n - 1 - j, masks as the collator;
/// the <c>single</c> variant reads the last given partition's summary as the user's one vector;</item>
/// <item>long-history backbones: <c>din-long</c> reads the last T given entries, <c>sim</c> searches the whole given
/// history for entries sharing a category with each candidate (the most recent T, oldest first), so the caller passes
/// as much history as the backbone should see (<see cref="HistoryWindow"/>).</item>
/// </list>
/// Unknown users and items get the missing code 0 (no id embedding, no profile fields); an unknown item still gets the
/// categories given through <see cref="UpsertItem"/>. Category names the checkpoint never saw are dropped (code 0).
/// </summary>
/// <remarks>
/// Thread safety: <c>Score</c>, <c>ScoreAsync</c> and <see cref="UpsertItem"/> may be called from any number of threads. The model
/// is read-only in eval mode; gradient mode and dispose scopes are per thread in TorchSharp. At most
/// <c>maxConcurrency</c> forward passes run at once (default: the processor count), so that a burst of requests
/// does not oversubscribe the cores (request handlers should use <c>ScoreAsync</c>, which queues without
/// holding a thread); hosts should also keep torch's intra-op threads small
/// (<see cref="TorchRuntime.Configure"/> with 1 thread gives the best throughput under concurrent requests).
/// </remarks>
public sealed class OnlineScorer : IDisposable
{
    private readonly CtrModel _model;
    private readonly ScorerCodes _codes;
    private readonly BatchWriter _writer;
    private readonly SemaphoreSlim _gate;
    private readonly bool _perUser;
    private readonly int _slots;
    private volatile bool _disposed;
    private int _waiting;

    private OnlineScorer(CtrModel model, CheckpointVocabulary vocabulary, string vocabularyPath, int maxConcurrency)
    {
        _model = model;
        _codes = new ScorerCodes(model.Map, vocabulary, vocabularyPath);
        _writer = new BatchWriter(model.Map, model.LongHistory, MaxPartitions, model.Config.Options.Stats);
        _perUser = model.Config.Fusion?.Variant.IsPerUser == true;
        _slots = maxConcurrency;
        _gate = new SemaphoreSlim(maxConcurrency, maxConcurrency);
    }

    /// <summary>The model's name: the backbone, with <c>+liber(variant)</c> when it has LIBER's fusion.</summary>
    public string ModelName => _model.Config.Fusion is { } f ? $"{_model.Config.Backbone}+liber({f.Variant})" : _model.Config.Backbone;

    /// <summary>The checkpoint's feature map.</summary>
    public FeatureMap Map => _model.Map;

    /// <summary>The encoder dimension LIBER's vectors must have, or null when the model has no fusion.</summary>
    public int? FusionInputSize => _model.Config.Fusion?.InputSize;

    /// <summary>P: how many of the most recent partitions the model reads (1 for the <c>single</c> variant, 0 without fusion).</summary>
    public int MaxPartitions => _model.Config.Fusion?.MaxPartitions ?? 0;

    /// <summary>
    /// How many of the most recent history entries <c>Score</c> reads: L, T for <c>din-long</c>,
    /// <see cref="int.MaxValue"/> for <c>sim</c> (its search reads the whole given history).
    /// </summary>
    public int HistoryWindow => _model.LongHistory switch
    {
        null => Map.HistoryLength,
        { Kind: LongHistoryKind.Recent } r => Math.Max(Map.HistoryLength, r.Length),
        _ => int.MaxValue,
    };

    /// <summary>Calls waiting for a forward slot right now (a host may answer 503 above a bound instead of queueing more).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Loads a checkpoint folder (model.bin, config.json, feature-map.json, vocabulary.json) for scoring.</summary>
    public static OnlineScorer Load(string checkpointDirectory) => Load(checkpointDirectory, Environment.ProcessorCount);

    /// <summary>Loads a checkpoint; at most <paramref name="maxConcurrency"/> forward passes run at once.</summary>
    public static OnlineScorer Load(string checkpointDirectory, int maxConcurrency)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointDirectory);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        string vocabularyPath = Path.Combine(checkpointDirectory, Checkpoint.VocabularyFile);
        CheckpointVocabulary vocabulary = CheckpointVocabulary.Load(vocabularyPath);
        (CtrModel model, _) = Checkpoint.Load(checkpointDirectory);
        try
        {
            return new OnlineScorer(model, vocabulary, vocabularyPath, maxConcurrency);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sets an item's categories (an item new to the checkpoint, or one whose metadata changed). A known item keeps
    /// its id code and fields; a new item has id code 0 and no fields. Names are matched case-insensitively with the
    /// checkpoint's categories; unknown names are dropped; at most <see cref="FeatureMap.MaxCategories"/> are kept.
    /// </summary>
    public void UpsertItem(string itemId, IReadOnlyList<string> categories)
    {
        ArgumentException.ThrowIfNullOrEmpty(itemId);
        ArgumentNullException.ThrowIfNull(categories);
        _codes.Upsert(itemId, categories);
    }

    /// <summary>
    /// Click probabilities of <paramref name="candidates"/> for a user with <paramref name="history"/> (oldest first)
    /// and the vectors of the partitions whose texts are ready (oldest first; null or empty: none).
    /// </summary>
    public float[] Score(string userId, IReadOnlyList<HistoryEntry> history, IReadOnlyList<string> candidates, IReadOnlyList<PartitionVector>? partitions) =>
        Score(userId, history, candidates, partitions, null);

    /// <summary>
    /// <see cref="Score(string, IReadOnlyList{HistoryEntry}, IReadOnlyList{string}, IReadOnlyList{PartitionVector}?)"/> for a
    /// checkpoint that reads the point-in-time statistics (<see cref="ReadsStats"/>): <paramref name="stats"/> holds each
    /// candidate's 8 values as <c>Liber.Core.Streams.PointInTimeStats</c> computes them at the request's time (the user's
    /// earlier events, the item's and global events strictly before now). Null for a checkpoint without statistics.
    /// </summary>
    public float[] Score(
        string userId, IReadOnlyList<HistoryEntry> history, IReadOnlyList<string> candidates, IReadOnlyList<PartitionVector>? partitions, IReadOnlyList<float[]>? stats)
    {
        ScoringRequest? request = Prepare(userId, history, candidates, partitions, stats);
        if (request is null)
        {
            return [];
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            _gate.Wait();
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return Forward(request);
    }

    /// <summary>
    /// <c>Score</c> for request handlers: waits for a forward slot asynchronously (no thread is held while a request
    /// queues, so a burst cannot starve the thread pool), then runs the forward pass on the calling thread.
    /// <paramref name="cancellationToken"/> cancels the wait only (an aborted request leaves the queue).
    /// </summary>
    public Task<float[]> ScoreAsync(
        string userId, IReadOnlyList<HistoryEntry> history, IReadOnlyList<string> candidates, IReadOnlyList<PartitionVector>? partitions, CancellationToken cancellationToken = default) =>
        ScoreAsync(userId, history, candidates, partitions, null, cancellationToken);

    /// <summary><see cref="ScoreAsync(string, IReadOnlyList{HistoryEntry}, IReadOnlyList{string}, IReadOnlyList{PartitionVector}?, CancellationToken)"/> with each candidate's point-in-time statistics (null for a checkpoint without them).</summary>
    public async Task<float[]> ScoreAsync(
        string userId, IReadOnlyList<HistoryEntry> history, IReadOnlyList<string> candidates, IReadOnlyList<PartitionVector>? partitions, IReadOnlyList<float[]>? stats, CancellationToken cancellationToken = default)
    {
        ScoringRequest? request = Prepare(userId, history, candidates, partitions, stats);
        if (request is null)
        {
            return [];
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return Forward(request);
    }

    /// <summary>
    /// UIF's attention weight of each partition the model reads for <paramref name="candidate"/> (the last <see cref="MaxPartitions"/> of
    /// <paramref name="partitions"/>, oldest first; empty with no partition), or null for a checkpoint without LIBER fusion. Takes a
    /// forward slot like <c>ScoreAsync</c>.
    /// </summary>
    public async Task<float[]?> AttentionAsync(string userId, IReadOnlyList<HistoryEntry> history, string candidate, IReadOnlyList<PartitionVector>? partitions, float[]? stats = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ScoringRequest request = Prepare(userId, history, [candidate], partitions, stats is null ? null : [stats])!;
        if (FusionInputSize is null)
        {
            return null;
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var grad = no_grad();
            using var scope = NewDisposeScope();
            CtrBatch batch = _writer.Write(new RequestSource(request, request.CreateTable(FusionInputSize ?? 0)));
            if (_model.FusionWeights(batch) is not Tensor weights)
            {
                return null;
            }

            int visible = (int)batch.Liber!.Mask.sum().item<long>();
            return weights[0, ..visible].data<float>().ToArray();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Validates the arguments and resolves ids on the host before a forward slot is taken; null for no candidates.</summary>
    private ScoringRequest? Prepare(
        string userId, IReadOnlyList<HistoryEntry> history, IReadOnlyList<string> candidates, IReadOnlyList<PartitionVector>? partitions, IReadOnlyList<float[]>? stats)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(candidates);
        CheckStats(stats, candidates.Count);
        if (candidates.Count == 0)
        {
            return null;
        }

        var targets = new ItemCodes[candidates.Count];
        for (int s = 0; s < targets.Length; s++)
        {
            targets[s] = _codes.Item(candidates[s] ?? throw new ArgumentException($"candidates[{s}] is null", nameof(candidates)));
        }

        int window = Math.Min(history.Count, HistoryWindow);
        var past = new ItemCodes[window];
        var ratings = new float[window];
        for (int j = 0; j < window; j++)
        {
            HistoryEntry e = history[history.Count - window + j];
            past[j] = _codes.Item(e.Item ?? throw new ArgumentException($"history[{history.Count - window + j}].Item is null", nameof(history)));
            ratings[j] = e.Rating / _codes.RatingScale;
        }

        int user = _codes.User(userId);
        return new ScoringRequest
        {
            User = user,
            UserFields = _codes.UserFields(user),
            Past = past,
            Ratings = ratings,
            Targets = targets,
            Partitions = FusionInputSize is int d ? ScoringRequest.Visible(partitions, MaxPartitions, d) : -1,
            Vectors = partitions,
            SummariesOnly = _perUser,
            Stats = stats,
        };
    }

    /// <summary>Whether the checkpoint reads the point-in-time statistics (callers must then pass them to <see cref="Score(string, IReadOnlyList{HistoryEntry}, IReadOnlyList{string}, IReadOnlyList{PartitionVector}?, IReadOnlyList{float[]}?)"/>).</summary>
    public bool ReadsStats => _model.Config.Options.Stats;

    private void CheckStats(IReadOnlyList<float[]>? stats, int candidates)
    {
        if (!ReadsStats)
        {
            if (stats is not null)
            {
                throw new ArgumentException("this checkpoint was trained without point-in-time statistics (stats off); pass none", nameof(stats));
            }

            return;
        }

        if (stats is null)
        {
            throw new NotSupportedException(
                "this checkpoint was trained with point-in-time statistics (stats on) and the request carries none: pass each candidate's "
                + $"{PointInTimeStats.Width} statistics, or score with a checkpoint trained with --stats off");
        }

        if (stats.Count != candidates || stats.Any(row => row is null || row.Length != PointInTimeStats.Width))
        {
            throw new ArgumentException($"stats must hold {PointInTimeStats.Width} floats for each of the {candidates} candidates", nameof(stats));
        }
    }

    /// <summary>Runs one forward pass; the caller holds a gate slot, which is released here.</summary>
    private float[] Forward(ScoringRequest r)
    {
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var grad = no_grad();
            using var scope = NewDisposeScope();
            CtrBatch batch = _writer.Write(new RequestSource(r, r.CreateTable(FusionInputSize ?? 0)));
            return _model.call(batch).sigmoid().data<float>().ToArray();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        // Wait for the forward passes in flight (new calls see _disposed and throw), dispose the model, then wake the
        // calls still queued: they see _disposed in Forward and throw. The semaphore stays undisposed so that no
        // waiter can hang on it.
        for (int i = 0; i < _slots; i++)
        {
            _gate.Wait();
        }

        _model.Dispose();
        _gate.Release(_slots);
    }
}
