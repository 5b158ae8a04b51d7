using Liber.Core.Data;
using Liber.Core.Streams;

namespace Liber.Interests.Template;

/// <summary>A named share of a range's events (e.g. a genre and the fraction of events whose item has it).</summary>
/// <param name="Name">Genre, decade or tag.</param>
/// <param name="Fraction">Fraction of the range's events, 0-1.</param>
/// <param name="MeanRating">Mean rating of those events.</param>
/// <param name="Liked">Fraction of those events rated at or above the label threshold.</param>
public readonly record struct Share(string Name, double Fraction, double MeanRating, double Liked = 0);

/// <summary>An item of a range with the user's rating.</summary>
/// <param name="Title">Item title.</param>
/// <param name="Year">Release year, if known.</param>
/// <param name="Rating">The user's rating.</param>
public readonly record struct RatedItem(string Title, int? Year, float Rating);

/// <summary>Statistics of one user's event range, the raw material of the template writer.</summary>
public sealed record RangeStats
{
    /// <summary>Events in the range.</summary>
    public int Count { get; init; }

    /// <summary>First timestamp (unix seconds).</summary>
    public long StartTime { get; init; }

    /// <summary>Last timestamp (unix seconds).</summary>
    public long EndTime { get; init; }

    /// <summary>Events per day over the span (a span under one day counts as one day).</summary>
    public double EventsPerDay { get; init; }

    /// <summary>Mean rating.</summary>
    public double MeanRating { get; init; }

    /// <summary>Fraction of events rated at or above the data set's label threshold.</summary>
    public double LikedShare { get; init; }

    /// <summary>Categories by share, largest first (ties by name).</summary>
    public required IReadOnlyList<Share> Categories { get; init; }

    /// <summary>Release decades by share, largest first.</summary>
    public required IReadOnlyList<Share> Decades { get; init; }

    /// <summary>Tags by share, largest first.</summary>
    public required IReadOnlyList<Share> Tags { get; init; }

    /// <summary>Best-rated items (at or above the threshold), best first, then oldest first.</summary>
    public required IReadOnlyList<RatedItem> Favourites { get; init; }

    /// <summary>Items rated well below the threshold, worst first.</summary>
    public required IReadOnlyList<RatedItem> Disliked { get; init; }

    /// <summary>
    /// Implicit data only (null for rated data): the share of the range's events whose item brings only categories the user had
    /// never met before that event (a discovery); the rest stay within categories already heard. Items without categories count as neither.
    /// </summary>
    public double? DiscoveryShare { get; init; }

    /// <summary>Share of a category (0 when absent).</summary>
    public double ShareOf(string category)
    {
        foreach (Share s in Categories)
        {
            if (string.Equals(s.Name, category, StringComparison.OrdinalIgnoreCase))
            {
                return s.Fraction;
            }
        }

        return 0;
    }

    /// <summary>Computes the statistics of events [start, end] of a user.</summary>
    public static RangeStats Of(UserStreams streams, int user, int start, int end)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, end);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(end, streams.Length(user), nameof(end));
        Dataset ds = streams.Dataset;
        float threshold = ds.Scale.DefaultThreshold;
        // "Disliked" = at least two steps of the scale's range below the threshold (<= 2 of 5 stars).
        float dislikeAt = threshold - (ds.Scale.Max - ds.Scale.Min) / 2f;
        int row0 = streams.Offsets[user];
        int n = end - start + 1;
        var cats = new Dictionary<string, (int Count, double Sum, int Liked)>(StringComparer.OrdinalIgnoreCase);
        var decades = new Dictionary<string, (int Count, double Sum, int Liked)>(StringComparer.Ordinal);
        var tags = new Dictionary<string, (int Count, double Sum, int Liked)>(StringComparer.OrdinalIgnoreCase);
        var rated = new List<(RatedItem Item, int Index)>(n);
        double sum = 0;
        int liked = 0;
        for (int i = start; i <= end; i++)
        {
            Item item = ds.Catalog[streams.Items[row0 + i]];
            float r = streams.Ratings[row0 + i];
            sum += r;
            liked += r >= threshold ? 1 : 0;
            foreach (string c in item.Categories.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                Add(cats, c, r, threshold);
            }

            if (item.Year is int y)
            {
                Add(decades, $"{y / 10 * 10}s", r, threshold);
            }

            foreach (string t in item.Tags.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                Add(tags, t, r, threshold);
            }

            rated.Add((new RatedItem(item.Title, item.Year, r), i));
        }

        long t0 = streams.Timestamps[row0 + start], t1 = streams.Timestamps[row0 + end];
        double? discovery = ds.Scale.Min >= ds.Scale.Max ? Discovery(streams, ds, row0, start, end) : null;
        return new RangeStats
        {
            Count = n,
            StartTime = t0,
            EndTime = t1,
            EventsPerDay = n / Math.Max(1.0, (t1 - t0) / 86400.0),
            MeanRating = sum / n,
            LikedShare = (double)liked / n,
            DiscoveryShare = discovery,
            Categories = Ranked(cats, n),
            Decades = Ranked(decades, n),
            Tags = Ranked(tags, n),
            Favourites = rated.Where(x => x.Item.Rating >= threshold).OrderByDescending(x => x.Item.Rating).ThenBy(x => x.Index).Select(x => x.Item).ToArray(),
            Disliked = rated.Where(x => x.Item.Rating <= dislikeAt).OrderBy(x => x.Item.Rating).ThenBy(x => x.Index).Select(x => x.Item).ToArray(),
        };
    }

    // Scans the user's stream before the range once (O(start)), then walks the range.
    private static double Discovery(UserStreams streams, Dataset ds, int row0, int start, int end)
    {
        var heard = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < start; i++)
        {
            heard.UnionWith(ds.Catalog[streams.Items[row0 + i]].Categories);
        }

        int discoveries = 0;
        for (int i = start; i <= end; i++)
        {
            IReadOnlyList<string> categories = ds.Catalog[streams.Items[row0 + i]].Categories;
            if (categories.Count > 0 && categories.All(c => !heard.Contains(c)))
            {
                discoveries++;
            }

            heard.UnionWith(categories);
        }

        return (double)discoveries / (end - start + 1);
    }

    private static void Add(Dictionary<string, (int Count, double Sum, int Liked)> map, string key, float rating, float threshold)
    {
        map.TryGetValue(key, out var v);
        map[key] = (v.Count + 1, v.Sum + rating, v.Liked + (rating >= threshold ? 1 : 0));
    }

    private static Share[] Ranked(Dictionary<string, (int Count, double Sum, int Liked)> map, int n) =>
        map.Select(kv => new Share(kv.Key, (double)kv.Value.Count / n, kv.Value.Sum / kv.Value.Count, (double)kv.Value.Liked / kv.Value.Count))
           .OrderByDescending(s => s.Fraction).ThenBy(s => s.Name, StringComparer.Ordinal).ToArray();
}
