using System.Collections.Concurrent;
using System.Runtime.InteropServices;
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
/// Thread safety: <see cref="Score"/> and <see cref="UpsertItem"/> may be called from any number of threads. The model
/// is read-only in eval mode; gradient mode and dispose scopes are per thread in TorchSharp. At most
/// <c>maxConcurrency</c> forward passes run at once (default: the processor count), so that a burst of requests
/// does not oversubscribe the cores; hosts should also keep torch's intra-op threads small
/// (<see cref="TorchRuntime.Configure"/> with 1 thread gives the best throughput under concurrent requests).
/// </remarks>
public sealed class OnlineScorer : IDisposable
{
    private readonly CtrModel _model;
    private readonly Dictionary<string, int> _users;
    private readonly long[] _userFields;
    private readonly ConcurrentDictionary<string, ItemCodes> _items;
    private readonly Dictionary<string, long> _categories;
    private readonly float _ratingScale;
    private readonly SemaphoreSlim _gate;
    private readonly LongHistoryRequest? _long;
    private readonly bool _perUser;
    private readonly int _slots;
    private readonly ItemCodes _missing;
    private volatile bool _disposed;

    private OnlineScorer(CtrModel model, CheckpointVocabulary vocabulary, string vocabularyPath, int maxConcurrency)
    {
        _model = model;
        FeatureMap map = model.Map;
        if (vocabulary.Users.Count != map.Users || vocabulary.Items.Count != map.Items)
        {
            throw new InvalidDataException(
                $"{vocabularyPath}: lists {vocabulary.Users.Count} users and {vocabulary.Items.Count} items; the checkpoint's feature map has {map.Users} and {map.Items}");
        }

        if (vocabulary.RatingScale.Max <= 0)
        {
            throw new InvalidDataException($"{vocabularyPath}: rating_scale.max must be > 0, got {vocabulary.RatingScale.Max}");
        }

        _ratingScale = vocabulary.RatingScale.Max;
        _categories = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        for (int k = 0; k < map.Categories.Count; k++)
        {
            _categories.TryAdd(map.Categories[k], k + 1);
        }

        _users = new Dictionary<string, int>(vocabulary.Users.Count, StringComparer.Ordinal);
        _userFields = new long[map.Users * map.UserFields.Count];
        for (int u = 0; u < vocabulary.Users.Count; u++)
        {
            VocabularyUser user = vocabulary.Users[u];
            if (!_users.TryAdd(user.Id, u))
            {
                throw new InvalidDataException($"{vocabularyPath}: user id '{user.Id}' is listed twice (users[{u}])");
            }

            Code(map.UserFields, user.Fields, _userFields.AsSpan(u * map.UserFields.Count, map.UserFields.Count), vocabularyPath, $"users[{u}]");
        }

        _items = new ConcurrentDictionary<string, ItemCodes>(StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Items.Count; i++)
        {
            VocabularyItem item = vocabulary.Items[i];
            var fields = new long[map.ItemFields.Count];
            Code(map.ItemFields, item.Fields, fields, vocabularyPath, $"items[{i}]");
            long[] cats = new long[map.MaxCategories];
            int n = 0;
            foreach (string name in item.Categories)
            {
                if (!_categories.TryGetValue(name, out long code))
                {
                    throw new InvalidDataException($"{vocabularyPath}: items[{i}] ('{item.Id}') has category '{name}', which the feature map does not list");
                }

                if (n < cats.Length && Array.IndexOf(cats, code, 0, n) < 0)
                {
                    cats[n++] = code;
                }
            }

            if (!_items.TryAdd(item.Id, new ItemCodes(i + 1, cats, fields)))
            {
                throw new InvalidDataException($"{vocabularyPath}: item id '{item.Id}' is listed twice (items[{i}])");
            }
        }

        _long = model.LongHistory;
        _perUser = model.Config.Fusion?.Variant == "single";
        _slots = maxConcurrency;
        _gate = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        _missing = new ItemCodes(0, new long[map.MaxCategories], new long[map.ItemFields.Count]);
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
    /// How many of the most recent history entries <see cref="Score"/> reads: L, T for <c>din-long</c>,
    /// <see cref="int.MaxValue"/> for <c>sim</c> (its search reads the whole given history).
    /// </summary>
    public int HistoryWindow => _long switch
    {
        null => Map.HistoryLength,
        { Kind: LongHistoryKind.Recent } r => Math.Max(Map.HistoryLength, r.Length),
        _ => int.MaxValue,
    };

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
        var cats = new long[Map.MaxCategories];
        int n = 0;
        foreach (string name in categories)
        {
            if (name is not null && _categories.TryGetValue(name, out long code) && n < cats.Length && Array.IndexOf(cats, code, 0, n) < 0)
            {
                cats[n++] = code;
            }
        }

        _items.AddOrUpdate(
            itemId,
            static (_, c) => new ItemCodes(0, c.Cats, new long[c.Fields]),
            static (_, old, c) => new ItemCodes(old.Code, c.Cats, old.Fields),
            (Cats: cats, Fields: Map.ItemFields.Count));
    }

    /// <summary>
    /// Click probabilities of <paramref name="candidates"/> for a user with <paramref name="history"/> (oldest first)
    /// and the vectors of the partitions whose texts are ready (oldest first; null or empty: none).
    /// </summary>
    public float[] Score(string userId, IReadOnlyList<HistoryEntry> history, IReadOnlyList<string> candidates, IReadOnlyList<PartitionVector>? partitions)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            return [];
        }

        // Resolve ids on the host before taking a forward slot.
        var target = new ItemCodes[candidates.Count];
        for (int s = 0; s < target.Length; s++)
        {
            target[s] = Lookup(candidates[s] ?? throw new ArgumentException($"candidates[{s}] is null", nameof(candidates)));
        }

        int window = Math.Min(history.Count, _long is null ? Map.HistoryLength : HistoryWindow);
        var past = new ItemCodes[window];
        var ratings = new float[window];
        for (int j = 0; j < window; j++)
        {
            HistoryEntry e = history[history.Count - window + j];
            past[j] = Lookup(e.Item ?? throw new ArgumentException($"history[{history.Count - window + j}].Item is null", nameof(history)));
            ratings[j] = e.Rating / _ratingScale;
        }

        int user = _users.TryGetValue(userId, out int u) ? u : -1;
        _gate.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var grad = no_grad();
            using var scope = NewDisposeScope();
            CtrBatch batch = Build(user, past, ratings, target, partitions);
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
        // Wait for the forward passes in flight: new calls see _disposed and throw.
        for (int i = 0; i < _slots; i++)
        {
            _gate.Wait();
        }

        _model.Dispose();
        _gate.Dispose();
    }

    private ItemCodes Lookup(string item) => _items.TryGetValue(item, out ItemCodes? codes) ? codes : _missing;

    private CtrBatch Build(int user, ItemCodes[] past, float[] pastRatings, ItemCodes[] target, IReadOnlyList<PartitionVector>? partitions)
    {
        FeatureMap map = Map;
        int b = target.Length, l = map.HistoryLength, c = map.MaxCategories, fu = map.UserFields.Count, fi = map.ItemFields.Count;

        // Hand-written fill of zeroed native tensors (the collator's layout), the hot path of a request.
        Tensor usersT = Longs(b), userFieldsT = Longs(b, fu), itemsT = Longs(b), targetCatsT = Longs(b, c), itemFieldsT = Longs(b, fi);
        Tensor histItemsT = Longs(b, l), histCatsT = Longs(b, l, c), histMaskT = zeros(b, l, ScalarType.Bool);
        Tensor histRatingsT = zeros(b, l), labelsT = zeros(b);
        Span<long> users = Of<long>(usersT), userFields = Of<long>(userFieldsT), items = Of<long>(itemsT), targetCats = Of<long>(targetCatsT);
        Span<long> itemFields = Of<long>(itemFieldsT), histItems = Of<long>(histItemsT), histCats = Of<long>(histCatsT);
        Span<bool> histMask = Of<bool>(histMaskT);
        Span<float> histRatings = Of<float>(histRatingsT);

        // Row 0 of the history, then copied to the other rows (the history is the same for every candidate).
        int n = Math.Min(l, past.Length), from = past.Length - n;
        for (int j = 0; j < n; j++)
        {
            ItemCodes h = past[from + j];
            histItems[j] = h.Code;
            h.Cats.CopyTo(histCats.Slice(j * c, c));
            histRatings[j] = pastRatings[from + j];
            histMask[j] = true;
        }

        ReadOnlySpan<long> profile = user >= 0 ? _userFields.AsSpan(user * fu, fu) : new long[fu];
        for (int s = 0; s < b; s++)
        {
            users[s] = user + 1;
            profile.CopyTo(userFields.Slice(s * fu, fu));
            items[s] = target[s].Code;
            target[s].Cats.CopyTo(targetCats.Slice(s * c, c));
            target[s].Fields.CopyTo(itemFields.Slice(s * fi, fi));
            if (s > 0)
            {
                histItems[..l].CopyTo(histItems.Slice(s * l, l));
                histCats[..(l * c)].CopyTo(histCats.Slice(s * l * c, l * c));
                histRatings[..l].CopyTo(histRatings.Slice(s * l, l));
                histMask[..l].CopyTo(histMask.Slice(s * l, l));
            }
        }

        return new CtrBatch
        {
            Size = b,
            Users = usersT,
            UserIds = new int[b],
            UserFields = userFieldsT,
            Items = itemsT,
            ItemCategories = targetCatsT,
            ItemFields = itemFieldsT,
            HistoryItems = histItemsT,
            HistoryCategories = histCatsT,
            HistoryRatings = histRatingsT,
            HistoryMask = histMaskT,
            Labels = labelsT,
            LongHistory = _long is null ? null : BuildLong(_long, past, target),
            Liber = _model.Fusion is null ? null : BuildLiber(b, partitions),
        };
    }

    private SequenceInput BuildLong(LongHistoryRequest request, ItemCodes[] past, ItemCodes[] target)
    {
        int b = target.Length, t = request.Length, c = Map.MaxCategories;
        Tensor itemsT = Longs(b, t), catsT = Longs(b, t, c), maskT = zeros(b, t, ScalarType.Bool);
        Span<long> seqItems = Of<long>(itemsT), seqCats = Of<long>(catsT);
        Span<bool> mask = Of<bool>(maskT);
        if (request.Kind == LongHistoryKind.Recent)
        {
            int n = Math.Min(t, past.Length), from = past.Length - n;
            for (int s = 0; s < b; s++)
            {
                for (int j = 0; j < n; j++)
                {
                    ItemCodes h = past[from + j];
                    seqItems[(s * t) + j] = h.Code;
                    h.Cats.CopyTo(seqCats.Slice(((s * t) + j) * c, c));
                    mask[(s * t) + j] = true;
                }
            }
        }
        else
        {
            // SIM's general search unit over the given history: the most recent entries sharing a category with the
            // candidate, oldest first (as the collator's category index searches the stream before a sample).
            Span<int> found = t <= 1024 ? stackalloc int[t] : new int[t];
            for (int s = 0; s < b; s++)
            {
                ReadOnlySpan<long> want = target[s].Cats;
                int n = 0;
                for (int r = past.Length - 1; r >= 0 && n < t; r--)
                {
                    if (SharesCategory(past[r].Cats, want))
                    {
                        found[n++] = r;
                    }
                }

                for (int j = 0; j < n; j++)
                {
                    ItemCodes h = past[found[n - 1 - j]];
                    seqItems[(s * t) + j] = h.Code;
                    h.Cats.CopyTo(seqCats.Slice(((s * t) + j) * c, c));
                    mask[(s * t) + j] = true;
                }
            }
        }

        return new SequenceInput { Items = itemsT, Categories = catsT, Mask = maskT };
    }

    private static bool SharesCategory(ReadOnlySpan<long> a, ReadOnlySpan<long> b)
    {
        foreach (long x in a)
        {
            if (x > 0 && b.Contains(x))
            {
                return true;
            }
        }

        return false;
    }

    private LiberInput BuildLiber(int b, IReadOnlyList<PartitionVector>? partitions)
    {
        int p = MaxPartitions, d = FusionInputSize!.Value;
        int count = partitions?.Count ?? 0;
        int n = Math.Min(p, count), from = count - n;

        // One [1, P, D] row expanded over the candidates: the partitions are the same for every candidate.
        Tensor sumT = zeros(1, p, d), shiftT = zeros(1, p, d), shiftMaskT = zeros(1, p, ScalarType.Bool);
        Tensor maskT = zeros(1, p, ScalarType.Bool), ranksT = Longs(1, p);
        Span<float> sum = Of<float>(sumT), shift = Of<float>(shiftT);
        Span<bool> shiftMask = Of<bool>(shiftMaskT), mask = Of<bool>(maskT);
        Span<long> ranks = Of<long>(ranksT);
        for (int j = 0; j < p; j++)
        {
            ranks[j] = j < n ? n - 1 - j : p;
        }

        for (int j = 0; j < n; j++)
        {
            PartitionVector v = partitions![from + j] ?? throw new ArgumentException($"partitions[{from + j}] is null", nameof(partitions));
            if (v.Summary is null || v.Summary.Length != d || (v.Shift is not null && v.Shift.Length != d))
            {
                throw new ArgumentException(
                    $"partitions[{from + j}]: vectors must have {d} floats (the checkpoint's encoder dimension), got summary {v.Summary?.Length ?? 0}, shift {v.Shift?.Length ?? 0}", nameof(partitions));
            }

            mask[j] = true;
            v.Summary.CopyTo(sum.Slice(j * d, d));
            if (v.Shift is not null && !_perUser)
            {
                v.Shift.CopyTo(shift.Slice(j * d, d));
                shiftMask[j] = true;
            }
        }

        return new LiberInput
        {
            Summaries = sumT.expand(b, p, d),
            Shifts = shiftT.expand(b, p, d),
            ShiftMask = shiftMaskT.expand(b, p),
            Mask = maskT.expand(b, p),
            Ranks = ranksT.expand(b, p),
        };
    }

    private static void Code(IReadOnlyList<CategoricalField> fields, IReadOnlyDictionary<string, string> values, Span<long> codes, string path, string where)
    {
        foreach (string name in values.Keys)
        {
            if (!fields.Any(f => f.Name == name))
            {
                throw new InvalidDataException($"{path}: {where} has field '{name}', which the feature map does not list");
            }
        }

        for (int f = 0; f < fields.Count; f++)
        {
            if (values.TryGetValue(fields[f].Name, out string? v))
            {
                int k = IndexOf(fields[f].Values, v);
                codes[f] = k >= 0 ? k + 1 : throw new InvalidDataException($"{path}: {where} has {fields[f].Name} '{v}', which the feature map does not list");
            }
        }
    }

    private static int IndexOf(IReadOnlyList<string> values, string v)
    {
        for (int k = 0; k < values.Count; k++)
        {
            if (string.Equals(values[k], v, StringComparison.Ordinal))
            {
                return k;
            }
        }

        return -1;
    }

    private static Tensor Longs(params long[] shape) => zeros(shape, ScalarType.Int64);

    /// <summary>A span over a contiguous CPU tensor's native memory (empty for an empty tensor).</summary>
    private static Span<T> Of<T>(Tensor t)
        where T : unmanaged => t.numel() == 0 ? [] : MemoryMarshal.Cast<byte, T>(t.bytes);

    /// <summary>An item's codes: id (+1, 0 unknown), categories (C) and fields (Fi). Immutable once published.</summary>
    private sealed class ItemCodes(long code, long[] cats, long[] fields)
    {
        public long Code { get; } = code;

        public long[] Cats { get; } = cats;

        public long[] Fields { get; } = fields;
    }
}
