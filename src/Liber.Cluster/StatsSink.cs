namespace Liber.Cluster;

/// <summary>One applied event as the shared statistics count it: the dense item and the rating.</summary>
/// <param name="Item">Dense item id (the cluster's catalog).</param>
/// <param name="Rating">Rating or feedback value.</param>
[GenerateSerializer]
[Alias("liber.StatEvent")]
public readonly record struct StatEvent([property: Id(0)] int Item, [property: Id(1)] float Rating);

/// <summary>
/// Where user grains count their applied events into the cluster's shared point-in-time statistics (in production
/// <see cref="Postgres.PostgresStats"/>), so that every silo serves a <c>--stats on</c> model the same numbers the
/// single-process service computes from all of its events. Registered on a silo only when the cluster counts statistics.
/// </summary>
public interface IStatsSink
{
    /// <summary>
    /// Counts the user's events numbered <paramref name="fromIndex"/>, <paramref name="fromIndex"/> + 1, ... (their
    /// indices in the user's stream), exactly once: events the sink has already counted for this user are skipped, so a
    /// count repeated after a crash adds nothing. Throws when events before <paramref name="fromIndex"/> are not counted
    /// (they would be lost).
    /// </summary>
    Task CountAsync(string user, int fromIndex, IReadOnlyList<StatEvent> events);
}
