using Liber.Core.Data;

namespace Liber.Core.Streams;

/// <summary>Smoothing of the point-in-time statistics: each rate is pulled toward its prior by this many pseudo-events.</summary>
public sealed record StatsOptions
{
    /// <summary>Pseudo-events of a user's rates toward the running global rates (default 5).</summary>
    public float UserPrior { get; init; } = 5;

    /// <summary>Pseudo-events of a user's rate on the target's categories toward the user's own rate (default 5).</summary>
    public float CategoryPrior { get; init; } = 5;

    /// <summary>Pseudo-events of an item's rates toward the running global rates (default 20).</summary>
    public float ItemPrior { get; init; } = 20;

    /// <summary>Validates the options.</summary>
    public void Validate()
    {
        if (!(UserPrior > 0 && CategoryPrior > 0 && ItemPrior > 0) || !float.IsFinite(UserPrior + CategoryPrior + ItemPrior))
        {
            throw new ArgumentException($"stats priors must be positive finite numbers (got user {UserPrior}, category {CategoryPrior}, item {ItemPrior})");
        }
    }
}

/// <summary>
/// Point-in-time statistics of every event, a numeric feature group for the backbones (as FuxiCTR's numeric fields).
/// For the event at index <c>i</c> of user <c>u</c>, at time <c>t</c>, on item <c>j</c>:
/// the user's values read only the user's events with index' &lt; i (the protocol's rule, the same events the
/// short-term history may show, including earlier events of the same second); the item's values and the global
/// priors read only events of all users with timestamp strictly before <c>t</c>. Nothing of the event itself or
/// later reaches its row. Computed in one time-ordered pass over the streams.
/// <para>Columns (see <see cref="Names"/>): log1p counts are divided by 10 so that every column lies roughly in [0, 1];
/// rates are smoothed toward their priors (<see cref="StatsOptions"/>); mean ratings are mapped onto [0, 1] by the
/// rating scale.</para>
/// </summary>
public sealed class PointInTimeStats
{
    /// <summary>Number of columns.</summary>
    public const int Width = 8;

    /// <summary>Column names, in order.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "user_events",          // log1p(user's earlier events) / 10
        "user_positive_rate",   // smoothed toward the running global positive rate
        "user_mean_rating",     // on [0, 1], smoothed toward the running global mean
        "user_category_events", // log1p(user's earlier events in the target's categories, one per shared category) / 10
        "user_category_rate",   // positive rate on those, smoothed toward the user's own rate
        "item_events",          // log1p(item's events before t, all users) / 10
        "item_positive_rate",   // smoothed toward the running global positive rate
        "item_mean_rating",     // on [0, 1], smoothed toward the running global mean
    ];

    private readonly float[] _values;
    private readonly SampleSet? _targets;      // implicit data: the samples whose drawn negatives have rows of their own
    private readonly float[]? _negativeValues; // ... indexed by sample ordinal (positives' slots unused)

    private PointInTimeStats(float[] values, StatsOptions options, SampleSet? targets, float[]? negativeValues)
    {
        _values = values;
        Options = options;
        _targets = targets;
        _negativeValues = negativeValues;
    }

    /// <summary>The options used.</summary>
    public StatsOptions Options { get; }

    /// <summary>Number of rows (the streams' events).</summary>
    public int Rows => _values.Length / Width;

    /// <summary>The statistics of the event at a stream row.</summary>
    public ReadOnlySpan<float> Row(int row) => _values.AsSpan(row * Width, Width);

    /// <summary>
    /// The statistics of the sample at <paramref name="ordinal"/>: its event's row, or for a drawn negative of implicit data the
    /// row of its drawn item at the positive's moment (the user's columns are the positive's; the category and item columns are
    /// the drawn item's, read from the same counters, so never from the item's future). Implicit samples need statistics computed
    /// with <see cref="Compute(SampleSet, StatsOptions?)"/> on the same set.
    /// </summary>
    public ReadOnlySpan<float> Sample(SampleSet samples, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (!samples.IsImplicit || samples.NegativesPerPositive == 0 || samples.Label(ordinal) == 1)
        {
            return Row(samples[ordinal].Row);
        }

        if (!ReferenceEquals(samples, _targets) || _negativeValues is null)
        {
            throw new ArgumentException("these statistics were computed without the samples' drawn negatives: compute them with PointInTimeStats.Compute(samples)", nameof(samples));
        }

        return _negativeValues.AsSpan(ordinal * Width, Width);
    }

    /// <summary>
    /// The statistics of every event of the samples' streams and, for implicit data, of every drawn negative (its target item at
    /// the moment of its positive), in the same time-ordered pass.
    /// </summary>
    public static PointInTimeStats Compute(SampleSet samples, StatsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return Compute(samples.Streams, samples.Threshold, options, samples.IsImplicit && samples.NegativesPerPositive > 0 ? samples : null);
    }

    /// <summary>Computes the statistics of every event of <paramref name="streams"/>; a rating &gt;= <paramref name="threshold"/> is a positive.</summary>
    public static PointInTimeStats Compute(UserStreams streams, float threshold, StatsOptions? options = null) => Compute(streams, threshold, options, null);

    private static PointInTimeStats Compute(UserStreams streams, float threshold, StatsOptions? options, SampleSet? targets)
    {
        ArgumentNullException.ThrowIfNull(streams);
        options ??= new StatsOptions();
        options.Validate();
        int n = streams.EventCount;
        ReadOnlySpan<long> ts = streams.Timestamps;
        ReadOnlySpan<int> items = streams.Items;
        ReadOnlySpan<float> ratings = streams.Ratings;
        ReadOnlySpan<int> offsets = streams.Offsets;
        int[][] categories = CategoryIds(streams.Dataset);
        RatingScale scale = streams.Dataset.Scale;
        float span = scale.Max > scale.Min ? scale.Max - scale.Min : 1;

        // Global order: timestamp, then row (rows are (user, index) ordered, so a user's same-second events keep index order).
        var order = new ulong[n];
        for (int row = 0; row < n; row++)
        {
            order[row] = ((ulong)ts[row] << 32) | (uint)row;
        }

        Array.Sort(order);
        var userOf = new int[n];
        for (int u = 0; u < streams.UserCount; u++)
        {
            userOf.AsSpan(offsets[u], offsets[u + 1] - offsets[u]).Fill(u);
        }

        var values = new float[(long)n * Width];

        // Implicit data: the first ordinal (the positive) of each event's sample group; its negatives follow it.
        int group = targets is null ? 0 : targets.NegativesPerPositive + 1;
        int[]? positiveOf = null;
        float[]? negativeValues = null;
        if (targets is not null)
        {
            positiveOf = new int[n];
            Array.Fill(positiveOf, -1);
            for (int o = 0; o < targets.Count; o += group)
            {
                positiveOf[targets[o].Row] = o;
            }

            negativeValues = new float[(long)targets.Count * Width];
        }

        var user = new Counter[streams.UserCount];
        var item = new Counter[streams.Dataset.Items.Count];
        var userCategory = new Dictionary<long, Counter>();
        Counter global = default;
        int groupStart = 0;
        for (int k = 0; k < n; k++)
        {
            int row = (int)(order[k] & 0xFFFFFFFF);
            if (k > groupStart && ts[row] != ts[(int)(order[groupStart] & 0xFFFFFFFF)])
            {
                // The previous second is over: its events now count for the items and the global priors.
                Publish(order.AsSpan(groupStart, k - groupStart), items, ratings, threshold, item, ref global);
                groupStart = k;
            }

            int u = userOf[row], j = items[row];
            Counter cc = default;
            foreach (int c in categories[j])
            {
                if (userCategory.TryGetValue(Key(u, c), out Counter x))
                {
                    cc.Add(x);
                }
            }

            Fill(values.AsSpan(row * Width, Width), user[u], cc, item[j], global, scale, options);
            if (positiveOf is not null && positiveOf[row] >= 0)
            {
                // The drawn negatives of this event: the same moment, their own item's counters.
                for (int o = positiveOf[row] + 1; o < positiveOf[row] + group; o++)
                {
                    int drawn = targets!.TargetItem(o);
                    Counter dc = default;
                    foreach (int c in categories[drawn])
                    {
                        if (userCategory.TryGetValue(Key(u, c), out Counter x))
                        {
                            dc.Add(x);
                        }
                    }

                    Fill(negativeValues.AsSpan(o * Width, Width), user[u], dc, item[drawn], global, scale, options);
                }
            }

            // The user's own state moves at once: the user's next event (same second or later) may read this one.
            bool positive = ratings[row] >= threshold;
            user[u].Add(positive, ratings[row]);
            foreach (int c in categories[j])
            {
                long key = Key(u, c);
                userCategory.TryGetValue(key, out Counter x);
                x.Add(positive, ratings[row]);
                userCategory[key] = x;
            }
        }

        return new PointInTimeStats(values, options, targets, negativeValues);
    }

    private static void Publish(ReadOnlySpan<ulong> group, ReadOnlySpan<int> items, ReadOnlySpan<float> ratings, float threshold, Counter[] item, ref Counter global)
    {
        foreach (ulong key in group)
        {
            int row = (int)(key & 0xFFFFFFFF);
            bool positive = ratings[row] >= threshold;
            item[items[row]].Add(positive, ratings[row]);
            global.Add(positive, ratings[row]);
        }
    }

    /// <summary>
    /// The 8 values of one event from its counters: the user's earlier events, the user's earlier events on the target's categories
    /// (summed over them), the item's and all users' events before the event's time. Shared by <see cref="Compute(UserStreams, float, StatsOptions?)"/> and
    /// <see cref="OnlineStats"/>, so training and serving compute the same numbers.
    /// </summary>
    internal static void Fill(Span<float> v, Counter user, Counter userCategory, Counter item, Counter global, RatingScale scale, StatsOptions options)
    {
        float span = scale.Max > scale.Min ? scale.Max - scale.Min : 1;
        float gRate = global.Count > 0 ? (float)global.Positives / global.Count : 0.5f;
        float gMean = global.Count > 0 ? (float)(global.RatingSum / global.Count) : (scale.Min + scale.Max) / 2;
        float userRate = Smooth(user.Positives, user.Count, gRate, options.UserPrior);
        v[0] = Log(user.Count);
        v[1] = userRate;
        v[2] = (Smooth(user.RatingSum, user.Count, gMean, options.UserPrior) - scale.Min) / span;
        v[3] = Log(userCategory.Count);
        v[4] = Smooth(userCategory.Positives, userCategory.Count, userRate, options.CategoryPrior);
        v[5] = Log(item.Count);
        v[6] = Smooth(item.Positives, item.Count, gRate, options.ItemPrior);
        v[7] = (Smooth(item.RatingSum, item.Count, gMean, options.ItemPrior) - scale.Min) / span;
    }

    /// <summary>
    /// The 8 values (<see cref="Names"/>) from counts kept elsewhere (a shared database's counters): the user's events, the
    /// user's events on the target's categories (summed over the distinct categories), the item's and all users' events.
    /// The same arithmetic as training's and <see cref="OnlineStats"/>'.
    /// </summary>
    public static float[] Row(StatCount user, StatCount userCategory, StatCount item, StatCount global, RatingScale scale, StatsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scale);
        options ??= new StatsOptions();
        options.Validate();
        var row = new float[Width];
        Fill(row, user.ToCounter(), userCategory.ToCounter(), item.ToCounter(), global.ToCounter(), scale, options);
        return row;
    }

    private static float Log(long count) => MathF.Log(1 + count) / 10;

    private static float Smooth(double sum, long count, float prior, float weight) => (float)((sum + weight * prior) / (count + weight));

    private static long Key(int user, int category) => ((long)user << 32) | (uint)category;

    /// <summary>Dense category ids of every item (items without metadata have none).</summary>
    private static int[][] CategoryIds(Dataset dataset)
    {
        var ids = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase); // as FeatureTables: names differing only in case are one category
        var result = new int[dataset.Items.Count][];
        for (int i = 0; i < result.Length; i++)
        {
            IReadOnlyList<string> names = i < dataset.Catalog.Count ? dataset.Catalog[i].Categories : [];
            var set = new List<int>(names.Count);
            foreach (string name in names)
            {
                if (!ids.TryGetValue(name, out int id))
                {
                    id = ids.Count;
                    ids[name] = id;
                }

                if (!set.Contains(id))
                {
                    set.Add(id);
                }
            }

            result[i] = [.. set];
        }

        return result;
    }

    /// <summary>Events, positives and the rating sum of a group of events.</summary>
    internal struct Counter
    {
        public long Count;
        public long Positives;
        public double RatingSum;

        public void Add(bool positive, float rating)
        {
            Count++;
            Positives += positive ? 1 : 0;
            RatingSum += rating;
        }

        public void Add(Counter other)
        {
            Count += other.Count;
            Positives += other.Positives;
            RatingSum += other.RatingSum;
        }
    }
}

/// <summary>Events, positive events and the sum of ratings of a group of events: what the point-in-time statistics count.</summary>
/// <param name="Count">Events.</param>
/// <param name="Positives">Events rated at or above the positive threshold.</param>
/// <param name="RatingSum">Sum of their ratings.</param>
public readonly record struct StatCount(long Count, long Positives, double RatingSum)
{
    /// <summary>This count plus <paramref name="other"/>.</summary>
    public StatCount Plus(StatCount other) => new(Count + other.Count, Positives + other.Positives, RatingSum + other.RatingSum);

    /// <summary>This count plus one event.</summary>
    public StatCount Plus(bool positive, float rating) => new(Count + 1, Positives + (positive ? 1 : 0), RatingSum + rating);

    internal PointInTimeStats.Counter ToCounter() => new() { Count = Count, Positives = Positives, RatingSum = RatingSum };
}

/// <summary>
/// Where a live service reads each candidate's point-in-time statistics: <see cref="OnlineStats"/> in one process, a shared
/// database's counters in a cluster (every silo's events counted once).
/// </summary>
public interface IStatsSource
{
    /// <summary>The 8 values (<see cref="PointInTimeStats.Names"/>) of <paramref name="user"/> and each candidate (its external id and categories) now, in candidate order.</summary>
    IReadOnlyList<float[]> Rows(string user, IReadOnlyList<(string Item, IReadOnlyList<string> Categories)> candidates);
}

