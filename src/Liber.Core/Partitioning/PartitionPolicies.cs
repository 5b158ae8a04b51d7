namespace Liber.Core.Partitioning;

/// <summary>Typed options of every partition policy, with the documented defaults.</summary>
public sealed record PartitionOptions
{
    /// <summary>Policy name: count, gap, window or drift.</summary>
    public string Policy { get; init; } = "count";

    /// <summary>count: events per partition (K).</summary>
    public int K { get; init; } = 20;

    /// <summary>gap: session gap in seconds (T).</summary>
    public long GapSeconds { get; init; } = 3600;

    /// <summary>window: calendar period.</summary>
    public CalendarPeriod Period { get; init; } = CalendarPeriod.Week;

    /// <summary>window: time zone (IANA id).</summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>drift: events in the recent window (also the minimum partition size).</summary>
    public int DriftWindow { get; init; } = 10;

    /// <summary>drift: Jensen-Shannon divergence threshold in [0, 1].</summary>
    public double DriftThreshold { get; init; } = 0.15;

    /// <summary>Hard caps.</summary>
    public PartitionCaps Caps { get; init; } = new();
}

/// <summary>The catalog of partition policies: one explicit line per policy.</summary>
public static class PartitionPolicies
{
    /// <summary>Policy names, in the order shown in help.</summary>
    public static IReadOnlyList<string> Names { get; } = ["count", "gap", "window", "drift"];

    /// <summary>Creates the policy the options name, validating its options.</summary>
    public static IPartitionPolicy Create(PartitionOptions o)
    {
        o.Caps.Validate();
        return o.Policy.ToLowerInvariant() switch
        {
            "count" => o.K >= 1 ? new CountPolicy(o.K) : throw new ArgumentException($"count policy needs k >= 1, got {o.K}"),
            "gap" => o.GapSeconds >= 0 ? new GapPolicy(o.GapSeconds) : throw new ArgumentException($"gap policy needs a gap >= 0 seconds, got {o.GapSeconds}"),
            "window" => new WindowPolicy(o.Period, o.TimeZone),
            "drift" => o.DriftWindow >= 1 && o.DriftThreshold is > 0 and < 1
                ? new DriftPolicy(o.DriftWindow, o.DriftThreshold)
                : throw new ArgumentException($"drift policy needs window >= 1 and 0 < threshold < 1, got {o.DriftWindow}, {o.DriftThreshold}"),
            _ => throw new ArgumentException($"unknown partition policy '{o.Policy}'; known: {string.Join(", ", Names)}"),
        };
    }
}
