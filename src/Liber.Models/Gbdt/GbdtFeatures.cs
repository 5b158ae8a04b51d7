using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;

namespace Liber.Models.Gbdt;

/// <summary>
/// The dense feature rows of the GBDT peer, one per sample: the point-in-time statistics (<see cref="PointInTimeStats"/>),
/// short-term statistics of the sample's last L events (the same window the neural backbones see), the target item's
/// categories (multi-hot) and fields, and the user's profile fields (one-hot). Every column reads only events before the
/// sample, as the statistics do. The statistics follow the backbone options as for the neural backbones (all 8 columns,
/// the item's 3 with <see cref="StatsScope.Item"/>, none with statistics off); with a partition size K the rows also carry
/// <see cref="PartitionNames"/>: statistics of the user's closed count-K partitions (UBSP's count policy: every K events
/// close one), computed straight from the events, no text and no encoder. That is the measurement of how much a strong
/// model gains from what LIBER's partitions hold, independent of LIBER's own pipeline.
/// </summary>
public sealed class GbdtFeatures
{
    /// <summary>Short-term columns, in order.</summary>
    public static IReadOnlyList<string> ShortTermNames { get; } =
    [
        "recent_events",          // events in the window / L
        "recent_positive_rate",   // liked share of the window (0.5 when empty)
        "recent_mean_rating",     // mean rating of the window on [0, 1] (0.5 when empty)
        "recent_category_events", // window events sharing a category with the target / L
        "recent_category_rate",   // liked share of those (the window's liked share when none)
        "last_rating",            // rating of the event just before, on [0, 1]
        "last_gap",               // log1p(seconds since the event just before) / 20
    ];

    /// <summary>Columns of the closed partitions, in order (with a partition size K &gt; 0).</summary>
    public static IReadOnlyList<string> PartitionNames { get; } =
    [
        "partitions",                    // log1p(closed partitions before the sample) / 5
        "partitions_positive_rate",      // liked share of the closed partitions' events (0.5 when none)
        "partitions_mean_rating",        // their mean rating on [0, 1] (0.5 when none)
        "partitions_category_share",     // share of them sharing a category with the target
        "partitions_category_rate",      // liked share of those, smoothed toward partitions_positive_rate (5 pseudo-events)
        "recency_category_rate",         // the same with partition weights 1/2^r (r = 0 for the last closed one)
        "last_partition_positive_rate",  // liked share of the last closed partition (0.5 when none)
        "last_partition_category_rate",  // its liked share on the target's categories, smoothed toward its own rate
        "positive_trend",                // last_partition_positive_rate - partitions_positive_rate
        "category_trend",                // last_partition_category_rate - partitions_category_rate
    ];

    // Pseudo-events of a partition rate on the target's categories toward the corresponding overall rate.
    private const float CategoryPrior = 5;

    private readonly SampleSet _samples;
    private readonly PointInTimeStats _stats;
    private readonly FeatureTables _tables;
    private readonly int _categories;
    private readonly List<(int Offset, int Vocabulary)> _userOneHot = [];
    private readonly List<(int Offset, int Vocabulary)> _itemOneHot = [];
    private readonly int[] _statsColumns;

    /// <summary>
    /// Describes the rows of <paramref name="samples"/> with the given statistics and feature tables; <paramref name="backbone"/>'s
    /// <c>stats</c> and <c>stats_scope</c> choose the statistics columns (null: all), <paramref name="partitionSize"/> &gt; 0 adds
    /// the closed count-K partitions' columns.
    /// </summary>
    public GbdtFeatures(SampleSet samples, PointInTimeStats stats, FeatureTables tables, BackboneOptions? backbone = null, int partitionSize = 0)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(tables);
        if (stats.Rows != samples.Streams.EventCount)
        {
            throw new ArgumentException($"statistics of {stats.Rows} events do not belong to streams of {samples.Streams.EventCount}", nameof(stats));
        }

        if (partitionSize < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(partitionSize), partitionSize, "the partition size K must be >= 0 (0: no partition columns)");
        }

        _samples = samples;
        _stats = stats;
        _tables = tables;
        PartitionSize = partitionSize;
        backbone ??= new BackboneOptions();
        _statsColumns = !backbone.Stats ? []
            : backbone.StatsScope == StatsScope.Item ? [.. Enumerable.Range(0, PointInTimeStats.Width).Where(k => PointInTimeStats.Names[k].StartsWith("item_", StringComparison.Ordinal))]
            : [.. Enumerable.Range(0, PointInTimeStats.Width)];
        var names = new List<string>(_statsColumns.Select(k => PointInTimeStats.Names[k]));
        names.AddRange(ShortTermNames);
        if (partitionSize > 0)
        {
            names.AddRange(PartitionNames);
        }

        _categories = tables.Map.Categories.Count;
        names.AddRange(tables.Map.Categories.Select(c => $"category={c}"));
        foreach (CategoricalField f in tables.Map.ItemFields)
        {
            _itemOneHot.Add((names.Count, f.Vocabulary));
            names.AddRange(Enumerable.Range(0, f.Vocabulary).Select(k => k == 0 ? $"{f.Name}=?" : $"{f.Name}={f.Values[k - 1]}"));
        }

        foreach (CategoricalField f in tables.Map.UserFields)
        {
            _userOneHot.Add((names.Count, f.Vocabulary));
            names.AddRange(Enumerable.Range(0, f.Vocabulary).Select(k => k == 0 ? $"{f.Name}=?" : $"{f.Name}={f.Values[k - 1]}"));
        }

        Names = names;
    }

    /// <summary>The partition size K of the partition columns (0: none).</summary>
    public int PartitionSize { get; }

    /// <summary>Column names, in order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of columns.</summary>
    public int Width => Names.Count;

    /// <summary>Writes the row of the sample at <paramref name="ordinal"/> into <paramref name="row"/> (<see cref="Width"/> values).</summary>
    public void Write(int ordinal, Span<float> row)
    {
        if (row.Length != Width)
        {
            throw new ArgumentException($"a row has {Width} columns, got room for {row.Length}", nameof(row));
        }

        row.Clear();
        UserStreams s = _samples.Streams;
        (int user, int index, int sampleRow) = _samples[ordinal];
        int item = _samples.TargetItem(ordinal); // a drawn negative's own item (implicit data)
        ReadOnlySpan<float> stats = _stats.Sample(_samples, ordinal);
        int at = 0;
        foreach (int k in _statsColumns)
        {
            row[at++] = stats[k];
        }

        // Short-term window: the same rows as the backbones' history.
        Range window = _samples.History(ordinal);
        (int start, int end) = (window.Start.Value, window.End.Value);
        int L = _samples.Options.HistoryLength, c = _tables.Map.MaxCategories;
        ReadOnlySpan<long> targetCats = _tables.ItemCategories.AsSpan(item * c, c);
        int n = end - start;
        (int liked, int shared, int sharedLiked, double ratingSum) = Count(start, end, targetCats);

        float scale = _tables.RatingScale;
        float recentRate = n > 0 ? (float)liked / n : 0.5f;
        row[at++] = (float)n / L;
        row[at++] = recentRate;
        row[at++] = n > 0 ? (float)(ratingSum / n / scale) : 0.5f;
        row[at++] = (float)shared / L;
        row[at++] = shared > 0 ? (float)sharedLiked / shared : recentRate;
        row[at++] = n > 0 ? s.Ratings[end - 1] / scale : 0.5f;
        row[at++] = n > 0 ? MathF.Log(1 + Math.Max(0, s.Timestamps[sampleRow] - s.Timestamps[end - 1])) / 20 : 1;
        if (PartitionSize > 0)
        {
            at = WritePartitions(row, at, s.Row(user, 0), index / PartitionSize, targetCats);
        }

        foreach (long code in targetCats)
        {
            if (code > 0)
            {
                row[at + (int)code - 1] = 1;
            }
        }

        at += _categories;
        OneHot(row, _itemOneHot, _tables.ItemFields, item);
        OneHot(row, _userOneHot, _tables.UserFields, user);
    }

    // The closed partitions are the user's first `closed` blocks of K events from stream row `first` (index / K of them: an
    // event's partition closes with its K-th event, so every block that ends before the sample is closed and visible).
    private int WritePartitions(Span<float> row, int at, int first, int closed, ReadOnlySpan<long> targetCats)
    {
        int k = PartitionSize;
        float scale = _tables.RatingScale;
        int events = 0, liked = 0, shared = 0, sharedLiked = 0, lastLiked = 0, lastShared = 0, lastSharedLiked = 0;
        double ratingSum = 0, weightedShared = 0, weightedSharedLiked = 0;
        for (int p = 0; p < closed; p++)
        {
            (int pLiked, int pShared, int pSharedLiked, double pRatings) = Count(first + (p * k), first + ((p + 1) * k), targetCats);
            ratingSum += pRatings;
            double weight = Math.Pow(0.5, closed - 1 - p);
            events += k;
            liked += pLiked;
            shared += pShared;
            sharedLiked += pSharedLiked;
            weightedShared += weight * pShared;
            weightedSharedLiked += weight * pSharedLiked;
            (lastLiked, lastShared, lastSharedLiked) = (pLiked, pShared, pSharedLiked);
        }

        float rate = events > 0 ? (float)liked / events : 0.5f;
        float categoryRate = (sharedLiked + (CategoryPrior * rate)) / (shared + CategoryPrior);
        float lastRate = closed > 0 ? (float)lastLiked / k : 0.5f;
        float lastCategoryRate = (lastSharedLiked + (CategoryPrior * lastRate)) / (lastShared + CategoryPrior);
        row[at++] = MathF.Log(1 + closed) / 5;
        row[at++] = rate;
        row[at++] = events > 0 ? (float)(ratingSum / events / scale) : 0.5f;
        row[at++] = events > 0 ? (float)shared / events : 0;
        row[at++] = categoryRate;
        row[at++] = (float)((weightedSharedLiked + (CategoryPrior * rate)) / (weightedShared + CategoryPrior));
        row[at++] = lastRate;
        row[at++] = lastCategoryRate;
        row[at++] = lastRate - rate;
        row[at++] = lastCategoryRate - categoryRate;
        return at;
    }

    // Liked events, events sharing a category with the target, liked ones of those, and the rating sum of stream rows [start, end).
    private (int Liked, int Shared, int SharedLiked, double RatingSum) Count(int start, int end, ReadOnlySpan<long> targetCats)
    {
        UserStreams s = _samples.Streams;
        int c = _tables.Map.MaxCategories, liked = 0, shared = 0, sharedLiked = 0;
        double ratingSum = 0;
        for (int r = start; r < end; r++)
        {
            bool positive = s.Ratings[r] >= _samples.Threshold;
            liked += positive ? 1 : 0;
            ratingSum += s.Ratings[r];
            if (SharesCategory(_tables.ItemCategories.AsSpan(s.Items[r] * c, c), targetCats))
            {
                shared++;
                sharedLiked += positive ? 1 : 0;
            }
        }

        return (liked, shared, sharedLiked, ratingSum);
    }

    private static void OneHot(Span<float> row, List<(int Offset, int Vocabulary)> fields, long[] codes, int id)
    {
        for (int f = 0; f < fields.Count; f++)
        {
            long code = codes[(id * fields.Count) + f];
            row[fields[f].Offset + (int)code] = 1;
        }
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
}
