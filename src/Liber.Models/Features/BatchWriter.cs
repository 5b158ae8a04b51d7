using System.Runtime.InteropServices;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using static TorchSharp.torch;

namespace Liber.Models.Features;

/// <summary>
/// The one writer of <see cref="CtrBatch"/>es, for training (<see cref="Collator"/>) and for serving
/// (<c>OnlineScorer</c>): ids, categories and fields of users and targets, the last L events of the history (items,
/// categories, ratings, mask), the long history a backbone asks for (the last T events, or SIM's category search) and
/// LIBER's input in table form (rows into a <see cref="PartitionTable"/>). What differs between training and serving is
/// only where the values come from (<see cref="IBatchSource"/>), so online = offline by construction.
/// A source that <see cref="IBatchSource.SharesUser"/> gets its history, recent long history and partitions written
/// once and expanded over the batch (<see cref="SharedRows"/>).
/// </summary>
/// <remarks>
/// Tensors are allocated zeroed (padding) and filled in place through spans over their native memory: no managed array
/// per batch, so training allocates almost nothing on the managed heap. The fill is a hand-written loop because it is
/// the hot path of data loading; sources are generic arguments so that the offline one's calls are inlined.
/// </remarks>
/// <param name="map">The schema (L, C, Fu, Fi).</param>
/// <param name="longHistory">The long history the backbone needs, or null.</param>
/// <param name="slots">P, LIBER's slots per sample (0: no LIBER input).</param>
/// <param name="stats">Whether the batch carries the point-in-time statistics (<see cref="CtrBatch.Stats"/>).</param>
public sealed class BatchWriter(FeatureMap map, LongHistoryRequest? longHistory, int slots, bool stats = false)
{
    /// <summary>Whether batches carry the point-in-time statistics.</summary>
    public bool WritesStats { get; } = stats;

    /// <summary>The schema.</summary>
    public FeatureMap Map { get; } = map ?? throw new ArgumentNullException(nameof(map));

    /// <summary>The long history written into <see cref="CtrBatch.LongHistory"/>, or null.</summary>
    public LongHistoryRequest? LongHistory { get; } = longHistory;

    /// <summary>P of the LIBER input (0 without LIBER).</summary>
    public int Slots { get; } = slots >= 0 ? slots : throw new ArgumentOutOfRangeException(nameof(slots), slots, "LIBER slots must be >= 0");

    /// <summary>Writes the batch of every sample of <paramref name="source"/>.</summary>
    public CtrBatch Write<TSource>(TSource source)
        where TSource : IBatchSource, allows ref struct
    {
        int b = source.Count, l = Map.HistoryLength, c = Map.MaxCategories, fu = Map.UserFields.Count, fi = Map.ItemFields.Count;
        int h = source.SharesUser ? 1 : b;
        using var scope = NewDisposeScope();
        Tensor usersT = Longs(b), userFieldsT = Longs(b, fu), itemsT = Longs(b), targetCatsT = Longs(b, c), itemFieldsT = Longs(b, fi);
        Tensor labelsT = zeros(b);
        Span<long> users = Of<long>(usersT), userFields = Of<long>(userFieldsT), items = Of<long>(itemsT), targetCats = Of<long>(targetCatsT);
        Span<long> itemFields = Of<long>(itemFieldsT);
        Span<float> labels = Of<float>(labelsT);
        var userIds = new int[b];
        for (int s = 0; s < b; s++)
        {
            int user = source.User(s);
            users[s] = user + 1;
            userIds[s] = user;
            source.UserFields(s).CopyTo(userFields.Slice(s * fu, fu));
            items[s] = source.Item(s);
            source.ItemCategories(s).CopyTo(targetCats.Slice(s * c, c));
            source.ItemFields(s).CopyTo(itemFields.Slice(s * fi, fi));
            labels[s] = source.Label(s);
        }

        // The short-term history: one row per sample, or one row expanded over the batch for a shared user.
        Tensor histItemsT = Longs(h, l), histCatsT = Longs(h, l, c), histMaskT = zeros(h, l, ScalarType.Bool), histRatingsT = zeros(h, l);
        Span<long> histItems = Of<long>(histItemsT), histCats = Of<long>(histCatsT);
        Span<bool> histMask = Of<bool>(histMaskT);
        Span<float> histRatings = Of<float>(histRatingsT);
        int longest = Math.Max(l, LongHistory?.Length ?? 0);
        Span<int> events = longest <= 1024 ? stackalloc int[longest] : new int[longest];
        for (int s = 0; s < h; s++)
        {
            int n = Last(source.Events(s), events[..l]);
            WriteEvents(source, events[..n], s * l, c, histItems, histCats, histMask, histRatings);
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
            HistoryItems = SharedRows.Expand(histItemsT, b).MoveToOuterDisposeScope(),
            HistoryCategories = SharedRows.Expand(histCatsT, b).MoveToOuterDisposeScope(),
            HistoryRatings = SharedRows.Expand(histRatingsT, b).MoveToOuterDisposeScope(),
            HistoryMask = SharedRows.Expand(histMaskT, b).MoveToOuterDisposeScope(),
            Labels = labelsT.MoveToOuterDisposeScope(),
            LongHistory = LongHistory is null ? null : WriteLong(source, LongHistory, events),
            Liber = Slots == 0 ? null : WriteLiber(source),
            Stats = WritesStats ? WriteStats(source).MoveToOuterDisposeScope() : null,
        };
        batch.LongHistory?.MoveToOuterDisposeScope();
        batch.Liber?.MoveToOuterDisposeScope();
        return batch;
    }

    /// <summary>Writes the last <c>into.Length</c> events of <paramref name="range"/> into <paramref name="into"/>, oldest first; returns how many.</summary>
    private static int Last(Range range, Span<int> into)
    {
        int end = range.End.Value, from = Math.Max(range.Start.Value, end - into.Length);
        for (int e = from; e < end; e++)
        {
            into[e - from] = e;
        }

        return end - from;
    }

    /// <summary>Fills a sequence's entries from <paramref name="start"/> on with <paramref name="events"/>.</summary>
    private static void WriteEvents<TSource>(TSource source, ReadOnlySpan<int> events, int start, int c, Span<long> items, Span<long> cats, Span<bool> mask, Span<float> ratings)
        where TSource : IBatchSource, allows ref struct
    {
        for (int j = 0; j < events.Length; j++)
        {
            int e = events[j], at = start + j;
            items[at] = source.EventItem(e);
            source.EventCategories(e).CopyTo(cats.Slice(at * c, c));
            mask[at] = true;
            ratings[at] = source.EventRating(e);
        }
    }

    private SequenceInput WriteLong<TSource>(TSource source, LongHistoryRequest request, Span<int> events)
        where TSource : IBatchSource, allows ref struct
    {
        // The recent long history is the user's (written once when shared); the category search depends on each target.
        int b = source.Count, t = request.Length, c = Map.MaxCategories;
        bool search = request.Kind == LongHistoryKind.CategorySearch;
        int rows = search || !source.SharesUser ? b : 1;
        Tensor itemsT = Longs(rows, t), catsT = Longs(rows, t, c), maskT = zeros(rows, t, ScalarType.Bool), ratingsT = zeros(rows, t);
        Span<long> items = Of<long>(itemsT), cats = Of<long>(catsT);
        Span<bool> mask = Of<bool>(maskT);
        Span<float> ratings = Of<float>(ratingsT);
        for (int s = 0; s < rows; s++)
        {
            int n = search ? source.Search(s, events[..t]) : Last(source.Events(s), events[..t]);
            WriteEvents(source, events[..n], s * t, c, items, cats, mask, ratings);
        }

        return new SequenceInput
        {
            Items = SharedRows.Expand(itemsT, b),
            Categories = SharedRows.Expand(catsT, b),
            Ratings = SharedRows.Expand(ratingsT, b),
            Mask = SharedRows.Expand(maskT, b),
        };
    }

    private static Tensor WriteStats<TSource>(TSource source)
        where TSource : IBatchSource, allows ref struct
    {
        int b = source.Count, w = PointInTimeStats.Width;
        Tensor statsT = zeros(b, w);
        Span<float> stats = Of<float>(statsT);
        for (int s = 0; s < b; s++)
        {
            ReadOnlySpan<float> row = source.Stats(s);
            if (row.Length != w)
            {
                throw new ArgumentException($"sample {s}: the point-in-time statistics must have {w} values, got {row.Length}");
            }

            row.CopyTo(stats.Slice(s * w, w));
        }

        return statsT;
    }

    private LiberInput WriteLiber<TSource>(TSource source)
        where TSource : IBatchSource, allows ref struct
    {
        PartitionTable table = source.Partitions ?? throw new ArgumentException("the batch needs LIBER's input but its source has no partition vectors");
        int b = source.Count, p = Slots, rows = source.SharesUser ? 1 : b;
        Tensor rowsT = Longs(rows * p), maskT = zeros(rows, p, ScalarType.Bool), ranksT = Longs(rows, p);
        Span<long> tableRows = Of<long>(rowsT), ranks = Of<long>(ranksT);
        Span<bool> mask = Of<bool>(maskT);
        for (int s = 0; s < rows; s++)
        {
            int n = source.PartitionRows(s, tableRows.Slice(s * p, p));
            for (int j = 0; j < p; j++)
            {
                mask[(s * p) + j] = j < n;
                ranks[(s * p) + j] = j < n ? n - 1 - j : p;
            }
        }

        // Rows only: the fusion gathers just the visible slots' vectors from the table (a dense [B, P, D] copy here cost
        // 12-16% of a DIN+LIBER training step in `liber bench train`).
        return new LiberInput
        {
            Rows = SharedRows.Expand(rowsT.view(rows, p), b),
            SummaryTable = table.Summaries,
            ShiftTable = table.Shifts,
            ShiftMask = SharedRows.Expand(table.HasShift.index_select(0, rowsT).view(rows, p), b),
            Mask = SharedRows.Expand(maskT, b),
            Ranks = SharedRows.Expand(ranksT, b),
        };
    }

    private static Tensor Longs(params long[] shape) => zeros(shape, ScalarType.Int64);

    /// <summary>A span over a contiguous CPU tensor's native memory (empty for an empty tensor).</summary>
    private static Span<T> Of<T>(Tensor t)
        where T : unmanaged => t.numel() == 0 ? [] : MemoryMarshal.Cast<byte, T>(t.bytes);
}
