using System.Runtime.InteropServices;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Fusion;
using static TorchSharp.torch;

namespace Liber.Models.Features;

/// <summary>
/// Builds <see cref="CtrBatch"/>es from sample ordinals of a <see cref="SampleSet"/>. Histories are read as
/// row ranges of <see cref="UserStreams"/> (never stored per sample); item features come from the flat
/// <see cref="FeatureTables"/>; LIBER's vectors are looked up through (user, visible partitions) in a
/// <see cref="PartitionVectors"/> table and gathered with one index_select per batch. Host-side gathering
/// is a hand-written loop because it is the hot path of data loading.
/// </summary>
public sealed class Collator
{
    private readonly SampleSet _samples;
    private readonly FeatureTables _tables;
    private readonly LongHistoryRequest? _long;
    private readonly PartitionVectors? _liber;
    private readonly int _slots;
    private readonly CategoryIndex? _search;

    /// <summary>Creates a collator; <paramref name="longHistory"/> and <paramref name="liber"/> are supplied when the model needs them.</summary>
    public Collator(SampleSet samples, FeatureTables tables, LongHistoryRequest? longHistory = null, PartitionVectors? liber = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(tables);
        _samples = samples;
        _tables = tables;
        _long = longHistory;
        _liber = liber;
        _slots = liber is null ? 0 : liber.IsPerUser ? 1 : tables.Map.MaxPartitions;
        if (longHistory?.Kind == LongHistoryKind.CategorySearch)
        {
            _search = CategoryIndex.Build(samples.Streams, tables);
        }
    }

    /// <summary>P of the LIBER input (1 for a per-user table, 0 without LIBER).</summary>
    public int Slots => _slots;

    /// <summary>The samples.</summary>
    public SampleSet Samples => _samples;

    /// <summary>A collator for a model: its long history, and LIBER's vectors when it has fusion.</summary>
    public static Collator For(CtrModel model, SampleSet samples, FeatureTables tables, PartitionVectors? liber)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Fusion is not null && liber is null)
        {
            throw new ArgumentException($"model {model.Config.Backbone} has LIBER fusion ({model.Config.Fusion!.Variant}) but no partition vectors were given");
        }

        return new Collator(samples, tables, model.LongHistory, model.Fusion is null ? null : liber);
    }

    /// <summary>Builds the batch of the given sample ordinals.</summary>
    public CtrBatch Build(ReadOnlySpan<int> ordinals)
    {
        FeatureMap map = _tables.Map;
        int b = ordinals.Length, l = map.HistoryLength, c = map.MaxCategories;
        int fu = map.UserFields.Count, fi = map.ItemFields.Count;
        UserStreams streams = _samples.Streams;
        ReadOnlySpan<int> streamItems = streams.Items;
        ReadOnlySpan<float> ratings = streams.Ratings;
        ReadOnlySpan<long> itemCats = _tables.ItemCategories;
        ReadOnlySpan<long> itemFieldTable = _tables.ItemFields;
        ReadOnlySpan<long> userFieldTable = _tables.UserFields;

        // Tensors are allocated zeroed (padding) and filled in place through spans over their native memory:
        // no managed array per batch, so training allocates almost nothing on the managed heap.
        using var scope = NewDisposeScope();
        Tensor usersT = Longs(b), userFieldsT = Longs(b, fu), itemsT = Longs(b), targetCatsT = Longs(b, c), itemFieldsT = Longs(b, fi);
        Tensor histItemsT = Longs(b, l), histCatsT = Longs(b, l, c), histMaskT = zeros(b, l, ScalarType.Bool);
        Tensor histRatingsT = zeros(b, l), labelsT = zeros(b);
        Span<long> users = Of<long>(usersT), userFields = Of<long>(userFieldsT), items = Of<long>(itemsT), targetCats = Of<long>(targetCatsT);
        Span<long> itemFields = Of<long>(itemFieldsT), histItems = Of<long>(histItemsT), histCats = Of<long>(histCatsT);
        Span<bool> histMask = Of<bool>(histMaskT);
        Span<float> histRatings = Of<float>(histRatingsT), labels = Of<float>(labelsT);
        var userIds = new int[b];
        for (int s = 0; s < b; s++)
        {
            int ordinal = ordinals[s];
            (int user, _, int row) = _samples[ordinal];
            int item = streamItems[row];
            users[s] = user + 1;
            userIds[s] = user;
            userFieldTable.Slice(user * fu, fu).CopyTo(userFields.Slice(s * fu, fu));
            items[s] = item + 1;
            itemCats.Slice(item * c, c).CopyTo(targetCats.Slice(s * c, c));
            itemFieldTable.Slice(item * fi, fi).CopyTo(itemFields.Slice(s * fi, fi));
            labels[s] = _samples.Label(ordinal);
            Range h = _samples.History(ordinal);
            int from = h.Start.Value, n = h.End.Value - from;
            for (int j = 0; j < n; j++)
            {
                int hi = streamItems[from + j];
                histItems[(s * l) + j] = hi + 1;
                itemCats.Slice(hi * c, c).CopyTo(histCats.Slice(((s * l) + j) * c, c));
                histRatings[(s * l) + j] = ratings[from + j] / _tables.RatingScale;
                histMask[(s * l) + j] = true;
            }
        }

        var batch = new CtrBatch
        {
            Size = b,
            Users = usersT.MoveToOuterDisposeScope(),
            UserIds = userIds,
            UserFields = userFieldsT.MoveToOuterDisposeScope(),
            Items = itemsT.MoveToOuterDisposeScope(),
            ItemCategories = targetCatsT.MoveToOuterDisposeScope(),
            ItemFields = itemFieldsT.MoveToOuterDisposeScope(),
            HistoryItems = histItemsT.MoveToOuterDisposeScope(),
            HistoryCategories = histCatsT.MoveToOuterDisposeScope(),
            HistoryRatings = histRatingsT.MoveToOuterDisposeScope(),
            HistoryMask = histMaskT.MoveToOuterDisposeScope(),
            Labels = labelsT.MoveToOuterDisposeScope(),
            LongHistory = _long is null ? null : BuildLong(ordinals, _long),
            Liber = _liber is null ? null : BuildLiber(ordinals, _liber),
        };
        batch.LongHistory?.MoveToOuterDisposeScope();
        batch.Liber?.MoveToOuterDisposeScope();
        return batch;
    }

    private static Tensor Longs(params long[] shape) => zeros(shape, ScalarType.Int64);

    /// <summary>A span over a contiguous CPU tensor's native memory (empty for an empty tensor).</summary>
    private static Span<T> Of<T>(Tensor t)
        where T : unmanaged => t.numel() == 0 ? [] : MemoryMarshal.Cast<byte, T>(t.bytes);

    private SequenceInput BuildLong(ReadOnlySpan<int> ordinals, LongHistoryRequest request)
    {
        int b = ordinals.Length, t = request.Length, c = _tables.Map.MaxCategories;
        UserStreams streams = _samples.Streams;
        ReadOnlySpan<int> streamItems = streams.Items;
        ReadOnlySpan<long> itemCats = _tables.ItemCategories;
        Tensor itemsT = Longs(b, t), catsT = Longs(b, t, c), maskT = zeros(b, t, ScalarType.Bool);
        Span<long> seqItems = Of<long>(itemsT), seqCats = Of<long>(catsT);
        Span<bool> mask = Of<bool>(maskT);
        Span<int> rows = t <= 1024 ? stackalloc int[t] : new int[t];
        for (int s = 0; s < b; s++)
        {
            (int user, _, int row) = _samples[ordinals[s]];
            int n;
            if (request.Kind == LongHistoryKind.Recent)
            {
                int from = Math.Max(streams.Offsets[user], row - t);
                n = row - from;
                for (int j = 0; j < n; j++)
                {
                    rows[j] = from + j;
                }
            }
            else
            {
                n = _search!.Search(user, row, itemCats.Slice(streamItems[row] * c, c), rows);
            }

            for (int j = 0; j < n; j++)
            {
                int item = streamItems[rows[j]];
                seqItems[(s * t) + j] = item + 1;
                itemCats.Slice(item * c, c).CopyTo(seqCats.Slice(((s * t) + j) * c, c));
                mask[(s * t) + j] = true;
            }
        }

        return new SequenceInput { Items = itemsT, Categories = catsT, Mask = maskT };
    }

    private LiberInput BuildLiber(ReadOnlySpan<int> ordinals, PartitionVectors vectors)
    {
        int b = ordinals.Length, p = _slots;
        Tensor rowsT = Longs(b * p), maskT = zeros(b, p, ScalarType.Bool), ranksT = Longs(b, p);
        Span<long> rows = Of<long>(rowsT), ranks = Of<long>(ranksT);
        Span<bool> mask = Of<bool>(maskT);
        for (int s = 0; s < b; s++)
        {
            (int user, int index, _) = _samples[ordinals[s]];
            int n = vectors.Lookup(user, index, rows.Slice(s * p, p));
            for (int j = 0; j < p; j++)
            {
                mask[(s * p) + j] = j < n;
                ranks[(s * p) + j] = j < n ? n - 1 - j : p;
            }
        }

        // Rows only: the fusion gathers just the visible slots' vectors from the tables (a dense [B, P, D] copy
        // here cost 12-16% of a DIN+LIBER training step in `liber bench train`).
        return new LiberInput
        {
            Rows = rowsT.view(b, p),
            SummaryTable = vectors.Summaries,
            ShiftTable = vectors.Shifts,
            ShiftMask = vectors.HasShift.index_select(0, rowsT).view(b, p),
            Mask = maskT,
            Ranks = ranksT,
        };
    }

    /// <summary>
    /// SIM's general search unit: for every (user, category), the user's stream rows with an item of that
    /// category, ascending. A search merges the target's categories' lists backwards from the sample's row.
    /// </summary>
    private sealed class CategoryIndex
    {
        private readonly int[] _offsets;
        private readonly int[] _rows;
        private readonly int _categories;

        private CategoryIndex(int[] offsets, int[] rows, int categories)
        {
            _offsets = offsets;
            _rows = rows;
            _categories = categories;
        }

        public static CategoryIndex Build(UserStreams streams, FeatureTables tables)
        {
            int k = tables.Map.CategoryVocabulary, c = tables.Map.MaxCategories;
            ReadOnlySpan<int> items = streams.Items;
            var offsets = new int[(streams.UserCount * k) + 1];
            for (int u = 0; u < streams.UserCount; u++)
            {
                for (int r = streams.Offsets[u]; r < streams.Offsets[u + 1]; r++)
                {
                    foreach (long code in tables.ItemCategories.AsSpan(items[r] * c, c))
                    {
                        if (code > 0)
                        {
                            offsets[(u * k) + (int)code + 1]++;
                        }
                    }
                }
            }

            for (int i = 1; i < offsets.Length; i++)
            {
                offsets[i] += offsets[i - 1];
            }

            var cursor = offsets[..^1];
            var rows = new int[offsets[^1]];
            for (int u = 0; u < streams.UserCount; u++)
            {
                for (int r = streams.Offsets[u]; r < streams.Offsets[u + 1]; r++)
                {
                    foreach (long code in tables.ItemCategories.AsSpan(items[r] * c, c))
                    {
                        if (code > 0)
                        {
                            rows[cursor[(u * k) + (int)code]++] = r;
                        }
                    }
                }
            }

            return new CategoryIndex(offsets, rows, k);
        }

        /// <summary>Writes the most recent rows before <paramref name="row"/> sharing a category with <paramref name="target"/>, oldest first; returns the count.</summary>
        public int Search(int user, int row, ReadOnlySpan<long> target, Span<int> result)
        {
            Span<int> heads = stackalloc int[target.Length];
            Span<int> starts = stackalloc int[target.Length];
            for (int i = 0; i < target.Length; i++)
            {
                if (target[i] == 0)
                {
                    heads[i] = starts[i] = 0;
                    continue;
                }

                int key = (user * _categories) + (int)target[i];
                int lo = _offsets[key], hi = _offsets[key + 1];
                starts[i] = lo;
                // heads[i]: one past the last row < row (binary search: strictly before the sample).
                int a = Array.BinarySearch(_rows, lo, hi - lo, row);
                heads[i] = a >= 0 ? a : ~a;
            }

            int n = 0, last = int.MaxValue;
            while (n < result.Length)
            {
                int best = -1, bestRow = -1;
                for (int i = 0; i < target.Length; i++)
                {
                    if (heads[i] > starts[i] && _rows[heads[i] - 1] > bestRow)
                    {
                        best = i;
                        bestRow = _rows[heads[i] - 1];
                    }
                }

                if (best < 0)
                {
                    break;
                }

                heads[best]--;
                if (bestRow != last)
                {
                    result[n++] = bestRow;
                    last = bestRow;
                }
            }

            result[..n].Reverse();
            return n;
        }
    }
}
