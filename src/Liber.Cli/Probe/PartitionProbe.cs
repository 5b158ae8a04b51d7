using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Interests.Template;
using Liber.Knowledge.Probe;

namespace Liber.Cli.Probe;

/// <summary>
/// The probe targets of partitions: each partition's own statistics, read from its events (<see cref="RangeStats"/>), which
/// a partition vector should keep if it carries what its text says. Rated data: the dominant category (class), the liked
/// share, the mean rating, and the liking of each of the <see cref="MajorCategories"/> most common categories (NaN where the
/// partition has none of it); implicit data: the dominant category, the discovery share and the share of each major
/// category. Every data set: log activity (events per day).
/// </summary>
public static class PartitionProbe
{
    /// <summary>Major categories probed one by one.</summary>
    public const int MajorCategories = 5;

    /// <summary>Dominant categories kept as classes (the rest of the partitions are left out of that target).</summary>
    public const int MaxClasses = 12;

    /// <summary>The targets of <paramref name="partitions"/> (in order) over <paramref name="streams"/>.</summary>
    public static IReadOnlyList<ProbeTarget> Targets(UserStreams streams, IReadOnlyList<Partition> partitions)
    {
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(partitions);
        RangeStats[] stats = [.. partitions.Select(p => RangeStats.Of(streams, p.User, p.Start, p.End))];
        bool implicitData = streams.Dataset.Scale.Min >= streams.Dataset.Scale.Max;
        string[] classes = [.. stats.Where(s => s.Categories.Count > 0).GroupBy(s => s.Categories[0].Name, StringComparer.OrdinalIgnoreCase)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(MaxClasses).Select(g => g.Key)];
        string[] major = [.. stats.SelectMany(s => s.Categories.Select(c => (c.Name, Events: c.Fraction * s.Count)))
            .GroupBy(c => c.Name, StringComparer.OrdinalIgnoreCase).OrderByDescending(g => g.Sum(c => c.Events)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(MajorCategories).Select(g => g.Key)];
        var targets = new List<ProbeTarget>
        {
            new("dominant_category", ProbeKind.Class, [.. stats.Select(s => s.Categories.Count == 0 ? float.NaN : Index(classes, s.Categories[0].Name))]),
            new("log_events_per_day", ProbeKind.Value, [.. stats.Select(s => (float)Math.Log(s.EventsPerDay))]),
        };
        if (implicitData)
        {
            targets.Add(new("discovery_share", ProbeKind.Value, [.. stats.Select(s => (float)(s.DiscoveryShare ?? double.NaN))]));
            targets.AddRange(major.Select(c => new ProbeTarget($"share_{c}", ProbeKind.Value, [.. stats.Select(s => (float)s.ShareOf(c))])));
        }
        else
        {
            targets.Add(new("liked_share", ProbeKind.Value, [.. stats.Select(s => (float)s.LikedShare)]));
            targets.Add(new("mean_rating", ProbeKind.Value, [.. stats.Select(s => (float)s.MeanRating)]));
            targets.AddRange(major.Select(c => new ProbeTarget($"liking_{c}", ProbeKind.Value, [.. stats.Select(s => Liking(s, c))])));
        }

        return targets;
    }

    private static float Index(string[] classes, string name)
    {
        int i = Array.FindIndex(classes, c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
        return i < 0 ? float.NaN : i;
    }

    private static float Liking(RangeStats s, string category)
    {
        foreach (Share c in s.Categories)
        {
            if (string.Equals(c.Name, category, StringComparison.OrdinalIgnoreCase))
            {
                return (float)c.Liked;
            }
        }

        return float.NaN;
    }
}
