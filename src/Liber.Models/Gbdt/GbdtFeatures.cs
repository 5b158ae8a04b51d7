using Liber.Core.Streams;
using Liber.Models.Features;

namespace Liber.Models.Gbdt;

/// <summary>
/// The dense feature rows of the GBDT peer, one per sample: the point-in-time statistics (<see cref="PointInTimeStats"/>),
/// short-term statistics of the sample's last L events (the same window the neural backbones see), the target item's
/// categories (multi-hot) and fields, and the user's profile fields (one-hot). Every column reads only events before the
/// sample, as the statistics do.
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

    private readonly SampleSet _samples;
    private readonly PointInTimeStats _stats;
    private readonly FeatureTables _tables;
    private readonly int _categories;
    private readonly List<(int Offset, int Vocabulary)> _userOneHot = [];
    private readonly List<(int Offset, int Vocabulary)> _itemOneHot = [];

    /// <summary>Describes the rows of <paramref name="samples"/> with the given statistics and feature tables.</summary>
    public GbdtFeatures(SampleSet samples, PointInTimeStats stats, FeatureTables tables)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(tables);
        if (stats.Rows != samples.Streams.EventCount)
        {
            throw new ArgumentException($"statistics of {stats.Rows} events do not belong to streams of {samples.Streams.EventCount}", nameof(stats));
        }

        _samples = samples;
        _stats = stats;
        _tables = tables;
        var names = new List<string>(PointInTimeStats.Names);
        names.AddRange(ShortTermNames);
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
        (int user, _, int sampleRow) = _samples[ordinal];
        int item = _samples.TargetItem(ordinal); // a drawn negative's own item (implicit data)
        float threshold = _samples.Threshold;
        _stats.Sample(_samples, ordinal).CopyTo(row);
        int at = PointInTimeStats.Width;

        // Short-term window: the same rows as the backbones' history.
        Range window = _samples.History(ordinal);
        (int start, int end) = (window.Start.Value, window.End.Value);
        int L = _samples.Options.HistoryLength, c = _tables.Map.MaxCategories;
        ReadOnlySpan<long> targetCats = _tables.ItemCategories.AsSpan(item * c, c);
        int n = end - start, liked = 0, shared = 0, sharedLiked = 0;
        double ratingSum = 0;
        for (int r = start; r < end; r++)
        {
            bool positive = s.Ratings[r] >= threshold;
            liked += positive ? 1 : 0;
            ratingSum += s.Ratings[r];
            if (SharesCategory(_tables.ItemCategories.AsSpan(s.Items[r] * c, c), targetCats))
            {
                shared++;
                sharedLiked += positive ? 1 : 0;
            }
        }

        float scale = _tables.RatingScale;
        float recentRate = n > 0 ? (float)liked / n : 0.5f;
        row[at++] = (float)n / L;
        row[at++] = recentRate;
        row[at++] = n > 0 ? (float)(ratingSum / n / scale) : 0.5f;
        row[at++] = (float)shared / L;
        row[at++] = shared > 0 ? (float)sharedLiked / shared : recentRate;
        row[at++] = n > 0 ? s.Ratings[end - 1] / scale : 0.5f;
        row[at++] = n > 0 ? MathF.Log(1 + Math.Max(0, s.Timestamps[sampleRow] - s.Timestamps[end - 1])) / 20 : 1;

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
