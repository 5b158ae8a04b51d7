namespace Liber.Core.Partitioning;

/// <summary>Hard caps every policy obeys, so a partition always fits an LLM context window.</summary>
public sealed record PartitionCaps
{
    /// <summary>At most this many events per partition (default 100).</summary>
    public int MaxEvents { get; init; } = 100;

    /// <summary>At most this many prompt tokens of rendered item lines per partition (default 4,000).</summary>
    public int MaxPromptTokens { get; init; } = 4000;

    /// <summary>Validates the caps.</summary>
    public void Validate()
    {
        if (MaxEvents < 1 || MaxPromptTokens < 1)
        {
            throw new ArgumentException($"max_events and max_prompt_tokens must be >= 1 (got {MaxEvents}, {MaxPromptTokens})");
        }
    }
}

/// <summary>What a policy may look at: the short-term cache of one user.</summary>
public interface ICacheView
{
    /// <summary>Events in the cache, oldest first.</summary>
    ReadOnlySpan<PartitionEvent> Events { get; }

    /// <summary>Item features (categories, tokens).</summary>
    ItemFeatures Features { get; }
}

/// <summary>
/// Decides where partitions end. Pure and deterministic: the decision depends only on the cache and the
/// incoming event. <see cref="CloseBefore"/> is asked before an event is appended (a boundary the new
/// event reveals, such as a session gap); <see cref="CloseAfter"/> after it is appended.
/// </summary>
public interface IPartitionPolicy
{
    /// <summary>Catalog name.</summary>
    string Name { get; }

    /// <summary>Whether the (non-empty) cache closes before <paramref name="incoming"/> joins it.</summary>
    bool CloseBefore(ICacheView cache, in PartitionEvent incoming);

    /// <summary>Whether the cache, with the event just appended, closes now.</summary>
    bool CloseAfter(ICacheView cache);

    /// <summary>The policy's options as key/value text, for run records and hashes.</summary>
    string Describe();
}

/// <summary><c>count</c>: close when the cache holds K events.</summary>
public sealed record CountPolicy(int K = 20) : IPartitionPolicy
{
    /// <inheritdoc />
    public string Name => "count";

    /// <inheritdoc />
    public bool CloseBefore(ICacheView cache, in PartitionEvent incoming) => false;

    /// <inheritdoc />
    public bool CloseAfter(ICacheView cache) => cache.Events.Length >= K;

    /// <inheritdoc />
    public string Describe() => $"count(k={K})";
}

/// <summary><c>gap</c>: close when the next event comes more than T seconds after the last (a session boundary).</summary>
public sealed record GapPolicy(long GapSeconds = 3600) : IPartitionPolicy
{
    /// <inheritdoc />
    public string Name => "gap";

    /// <inheritdoc />
    public bool CloseBefore(ICacheView cache, in PartitionEvent incoming) => incoming.Timestamp - cache.Events[^1].Timestamp > GapSeconds;

    /// <inheritdoc />
    public bool CloseAfter(ICacheView cache) => false;

    /// <inheritdoc />
    public string Describe() => $"gap(seconds={GapSeconds})";
}

/// <summary>Calendar periods of the <c>window</c> policy.</summary>
public enum CalendarPeriod
{
    /// <summary>Local calendar day.</summary>
    Day,

    /// <summary>ISO week (Monday to Sunday).</summary>
    Week,

    /// <summary>Calendar month.</summary>
    Month,
}

/// <summary><c>window</c>: close at calendar period boundaries (day, week, month) in a time zone.</summary>
public sealed record WindowPolicy(CalendarPeriod Period = CalendarPeriod.Week, string TimeZone = "UTC") : IPartitionPolicy
{
    private readonly TimeZoneInfo _zone = FindZone(TimeZone);

    /// <inheritdoc />
    public string Name => "window";

    /// <inheritdoc />
    public bool CloseBefore(ICacheView cache, in PartitionEvent incoming) => PeriodOf(cache.Events[^1].Timestamp) != PeriodOf(incoming.Timestamp);

    /// <inheritdoc />
    public bool CloseAfter(ICacheView cache) => false;

    /// <inheritdoc />
    public string Describe() => $"window(period={Period.ToString().ToLowerInvariant()}, time_zone={TimeZone})";

    /// <summary>A number identifying the period containing a timestamp in the policy's time zone.</summary>
    public long PeriodOf(long timestamp)
    {
        DateTime local = TimeZoneInfo.ConvertTimeFromUtc(DateTimeOffset.FromUnixTimeSeconds(timestamp).UtcDateTime, _zone);
        return Period switch
        {
            CalendarPeriod.Day => local.Date.Ticks / TimeSpan.TicksPerDay,
            // Days since 0001-01-01 (a Monday), divided into weeks.
            CalendarPeriod.Week => local.Date.Ticks / TimeSpan.TicksPerDay / 7,
            _ => (local.Year * 12L) + local.Month,
        };
    }

    private static TimeZoneInfo FindZone(string id)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (TimeZoneNotFoundException)
        {
            throw new ArgumentException($"unknown time zone '{id}'; use an IANA id such as UTC or Europe/Berlin");
        }
    }
}

/// <summary>
/// <c>drift</c>: close when the interest distribution (over item categories, additively smoothed) of the
/// cache's most recent <see cref="Window"/> events diverges from that of the earlier cache events by more
/// than <see cref="Threshold"/> (Jensen-Shannon divergence, base 2, in [0, 1]). The cache must hold at least
/// 2 x Window events first, so a partition never has fewer than Window + 1 events and noise does not split it.
/// </summary>
public sealed record DriftPolicy(int Window = 10, double Threshold = 0.15, double Smoothing = 0.5) : IPartitionPolicy
{
    /// <inheritdoc />
    public string Name => "drift";

    /// <inheritdoc />
    public bool CloseBefore(ICacheView cache, in PartitionEvent incoming) => false;

    /// <inheritdoc />
    public bool CloseAfter(ICacheView cache)
    {
        ReadOnlySpan<PartitionEvent> events = cache.Events;
        if (events.Length < 2 * Window)
        {
            return false;
        }

        var older = new Dictionary<int, double>();
        var recent = new Dictionary<int, double>();
        double olderTotal = Count(events[..^Window], cache.Features, older);
        double recentTotal = Count(events[^Window..], cache.Features, recent);
        return Divergence.JensenShannon(older, olderTotal, recent, recentTotal, cache.Features.CategoryNames.Count, Smoothing) > Threshold;
    }

    /// <inheritdoc />
    public string Describe() => $"drift(window={Window}, threshold={Threshold}, smoothing={Smoothing})";

    private static double Count(ReadOnlySpan<PartitionEvent> events, ItemFeatures f, Dictionary<int, double> counts)
    {
        double total = 0;
        foreach (PartitionEvent e in events)
        {
            ReadOnlySpan<int> cats = f.Categories(e.Item);
            foreach (int c in cats)
            {
                // Each event carries weight 1, split over its categories.
                counts[c] = counts.GetValueOrDefault(c) + (1.0 / cats.Length);
            }

            total += cats.Length > 0 ? 1 : 0;
        }

        return total;
    }
}

/// <summary>Divergences between smoothed category distributions.</summary>
public static class Divergence
{
    /// <summary>
    /// Jensen-Shannon divergence (base 2) between two count vectors over a vocabulary of <paramref name="vocabulary"/>
    /// categories, each smoothed by adding <paramref name="alpha"/> to every category. Categories absent from
    /// both are handled in closed form, so the cost is proportional to the categories present.
    /// </summary>
    public static double JensenShannon(IReadOnlyDictionary<int, double> p, double pTotal, IReadOnlyDictionary<int, double> q, double qTotal, int vocabulary, double alpha)
    {
        vocabulary = Math.Max(vocabulary, 1);
        double pz = pTotal + (alpha * vocabulary), qz = qTotal + (alpha * vocabulary);
        if (pz <= 0 || qz <= 0)
        {
            return 0;
        }

        double js = 0;
        int present = 0;
        foreach (int c in p.Keys.Union(q.Keys))
        {
            present++;
            js += Term((p.GetValueOrDefault(c) + alpha) / pz, (q.GetValueOrDefault(c) + alpha) / qz);
        }

        if (vocabulary > present && alpha > 0)
        {
            js += (vocabulary - present) * Term(alpha / pz, alpha / qz);
        }

        return Math.Clamp(js, 0, 1);

        static double Term(double a, double b)
        {
            double m = (a + b) / 2;
            double t = 0;
            if (a > 0)
            {
                t += 0.5 * a * Math.Log2(a / m);
            }

            if (b > 0)
            {
                t += 0.5 * b * Math.Log2(b / m);
            }

            return t;
        }
    }
}
