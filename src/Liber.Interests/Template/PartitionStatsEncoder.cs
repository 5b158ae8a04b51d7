using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Streams;

namespace Liber.Interests.Template;

/// <summary>
/// The <c>stats</c> partition encoder: a partition's statistics as a fixed, documented vector, with no text and no LLM.
/// It is the upper bound of what template texts (statistics of the past, no world knowledge) can carry, and a cheap
/// production option; reports label it as not-LLM. Layout, for a data set with categories c_1..c_C (every category of
/// the catalog, in first-seen order, case-insensitive) and decades d_1..d_D (every release decade of the catalog, in
/// order):
/// <list type="bullet">
/// <item>[0, C): share of the partition's events whose item has category c_k;</item>
/// <item>[C, 2C): liked rate of those events, smoothed toward the partition's liked share with one pseudo-event (the
/// partition's liked share where the category is absent);</item>
/// <item>[2C, 2C + D): share of events per release decade;</item>
/// <item>then mean rating on [0, 1] by the rating scale, liked share, log1p(events) / log(101), and log1p(events per day) / log(101);</item>
/// <item>[2C + D + 4, 3C + D + 4): share of the partition's events that are liked and have category c_k. Unlike the liked
/// rates these add up over partitions of equal size: summed over a user's partitions, this block over the share block is
/// the user's liked rate of the category (events weigh, not partitions), a ratio a fusion layer can form from two linear
/// read-outs.</item>
/// </list>
/// </summary>
public sealed class PartitionStatsEncoder
{
    private readonly UserStreams _streams;
    private readonly float _threshold;
    private readonly int[][] _categories;
    private readonly int[] _decade;

    /// <summary>Creates the encoder of a data set's streams; a rating &gt;= <paramref name="threshold"/> is liked.</summary>
    public PartitionStatsEncoder(UserStreams streams, float threshold)
    {
        ArgumentNullException.ThrowIfNull(streams);
        _streams = streams;
        _threshold = threshold;
        IReadOnlyList<Item> catalog = streams.Dataset.Catalog;
        var categoryIds = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var names = new List<string>();
        _categories = new int[catalog.Count][];
        var decades = catalog.Where(i => i.Year is not null).Select(i => i.Year!.Value / 10 * 10).Distinct().Order().ToList();
        _decade = new int[catalog.Count];
        for (int i = 0; i < catalog.Count; i++)
        {
            var ids = new List<int>();
            foreach (string c in catalog[i].Categories)
            {
                if (!categoryIds.TryGetValue(c, out int id))
                {
                    id = names.Count;
                    categoryIds[c] = id;
                    names.Add(c);
                }

                if (!ids.Contains(id))
                {
                    ids.Add(id);
                }
            }

            _categories[i] = [.. ids];
            _decade[i] = catalog[i].Year is int y ? decades.IndexOf(y / 10 * 10) : -1;
        }

        Categories = names;
        Decades = [.. decades.Select(d => $"{d}s")];
        Dimension = (3 * names.Count) + decades.Count + 4;
    }

    /// <summary>Category names, in vector order.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>Decade names (e.g. 1990s), in vector order.</summary>
    public IReadOnlyList<string> Decades { get; }

    /// <summary>Length of a vector.</summary>
    public int Dimension { get; }

    /// <summary>Name of each dimension.</summary>
    public IReadOnlyList<string> Names =>
    [
        .. Categories.Select(c => $"share:{c}"),
        .. Categories.Select(c => $"liked:{c}"),
        .. Decades.Select(d => $"decade:{d}"),
        "mean_rating", "liked_share", "events", "events_per_day",
        .. Categories.Select(c => $"liked_share:{c}"),
    ];

    /// <summary>The vector of a partition's events.</summary>
    public float[] Encode(Partition partition)
    {
        ArgumentNullException.ThrowIfNull(partition);
        return Encode(partition.User, partition.Start, partition.End);
    }

    /// <summary>The vector of events [start, end] of a user.</summary>
    public float[] Encode(int user, int start, int end)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, end);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(end, _streams.Length(user), nameof(end));
        int c = Categories.Count, d = Decades.Count, n = end - start + 1, row0 = _streams.Offsets[user];
        var v = new float[Dimension];
        var liked = new int[c];
        int likedAll = 0;
        double ratingSum = 0;
        for (int i = start; i <= end; i++)
        {
            int item = _streams.Items[row0 + i];
            float r = _streams.Ratings[row0 + i];
            bool positive = r >= _threshold;
            likedAll += positive ? 1 : 0;
            ratingSum += r;
            foreach (int k in _categories[item])
            {
                v[k]++;
                liked[k] += positive ? 1 : 0;
            }

            if (_decade[item] >= 0)
            {
                v[(2 * c) + _decade[item]]++;
            }
        }

        float likedShare = (float)likedAll / n;
        for (int k = 0; k < c; k++)
        {
            v[c + k] = (liked[k] + likedShare) / (v[k] + 1);
            v[k] /= n;
        }

        for (int k = 0; k < d; k++)
        {
            v[(2 * c) + k] /= n;
        }

        RatingScale scale = _streams.Dataset.Scale;
        long t0 = _streams.Timestamps[row0 + start], t1 = _streams.Timestamps[row0 + end];
        int at = (2 * c) + d;
        v[at] = scale.Max > scale.Min ? (float)(((ratingSum / n) - scale.Min) / (scale.Max - scale.Min)) : 0.5f;
        v[at + 1] = likedShare;
        v[at + 2] = MathF.Log(1 + n) / MathF.Log(101);
        v[at + 3] = (float)(Math.Log(1 + (n / Math.Max(1.0, (t1 - t0) / 86400.0))) / Math.Log(101));
        for (int k = 0; k < c; k++)
        {
            v[at + 4 + k] = (float)liked[k] / n;
        }

        return v;
    }
}
