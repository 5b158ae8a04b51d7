using System.Globalization;
using System.Text.Json.Serialization;
using Liber.Core.Partitioning;

namespace Liber.Models.Training;

/// <summary>
/// The setup a checkpoint was trained under, beside its model config in config.json: the data set's sample settings
/// and, for a LIBER model, the whole chain (UBSP policy and caps, P, UIL backend/model/mode/templates, encoder, fusion).
/// <c>liber evaluate</c> and <c>liber serve</c> take these as their defaults and refuse a flag that contradicts them.
/// </summary>
public sealed record CheckpointSetup
{
    /// <summary>The data set and sample settings.</summary>
    [JsonPropertyName("dataset")] public required DatasetSetup Dataset { get; init; }

    /// <summary>LIBER's chain, or null for a backbone trained alone.</summary>
    [JsonPropertyName("liber")] public LiberSetup? Liber { get; init; }
}

/// <summary>The data set kind and the sample settings of training.</summary>
public sealed record DatasetSetup
{
    /// <summary>Reader kind (csv, movielens-1m, synthetic, ...).</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }

    /// <summary>The label threshold used (rating &gt;= threshold is a positive), resolved from the data set's default when none was given.</summary>
    [JsonPropertyName("threshold")] public float? Threshold { get; init; }

    /// <summary>Samples with fewer earlier events were excluded.</summary>
    [JsonPropertyName("min_history")] public int MinHistory { get; init; }

    /// <summary>L, the short-term history length.</summary>
    [JsonPropertyName("history_length")] public int HistoryLength { get; init; }
}

/// <summary>LIBER's chain as trained.</summary>
public sealed record LiberSetup
{
    /// <summary>UBSP policy, its parameters and caps.</summary>
    [JsonPropertyName("policy")] public required PolicySetup Policy { get; init; }

    /// <summary>P, visible partitions per sample.</summary>
    [JsonPropertyName("max_partitions")] public int MaxPartitions { get; init; }

    /// <summary>UIL: who wrote the interest texts and how.</summary>
    [JsonPropertyName("uil")] public required UilSetup Uil { get; init; }

    /// <summary>Knowledge encoder (minilm, arctic-xs, openai).</summary>
    [JsonPropertyName("encoder")] public required string Encoder { get; init; }

    /// <summary>UIF variant.</summary>
    [JsonPropertyName("fusion")] public required string Fusion { get; init; }
}

/// <summary>A UBSP policy with its own parameters only (the others stay null) and the hard caps.</summary>
public sealed record PolicySetup
{
    /// <summary>count, gap, window or drift.</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>count: K.</summary>
    [JsonPropertyName("k")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? K { get; init; }

    /// <summary>gap: seconds.</summary>
    [JsonPropertyName("gap_seconds")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? GapSeconds { get; init; }

    /// <summary>window: day, week or month.</summary>
    [JsonPropertyName("period")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Period { get; init; }

    /// <summary>window: IANA time zone.</summary>
    [JsonPropertyName("time_zone")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TimeZone { get; init; }

    /// <summary>drift: recent window.</summary>
    [JsonPropertyName("drift_window")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? DriftWindow { get; init; }

    /// <summary>drift: Jensen-Shannon threshold.</summary>
    [JsonPropertyName("drift_threshold")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? DriftThreshold { get; init; }

    /// <summary>Hard cap: events per partition.</summary>
    [JsonPropertyName("max_events")] public int MaxEvents { get; init; }

    /// <summary>Hard cap: cl100k_base prompt tokens per partition.</summary>
    [JsonPropertyName("max_prompt_tokens")] public int MaxPromptTokens { get; init; }

    /// <summary>The record of <paramref name="o"/>: its policy's parameters and the caps.</summary>
    public static PolicySetup From(PartitionOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        string name = o.Policy.ToLowerInvariant();
        return new PolicySetup
        {
            Name = name,
            K = name == "count" ? o.K : null,
            GapSeconds = name == "gap" ? o.GapSeconds : null,
            Period = name == "window" ? o.Period.ToString().ToLowerInvariant() : null,
            TimeZone = name == "window" ? o.TimeZone : null,
            DriftWindow = name == "drift" ? o.DriftWindow : null,
            DriftThreshold = name == "drift" ? o.DriftThreshold : null,
            MaxEvents = o.Caps.MaxEvents,
            MaxPromptTokens = o.Caps.MaxPromptTokens,
        };
    }

    /// <summary>The partition options this record describes (parameters of other policies at their defaults).</summary>
    public PartitionOptions ToOptions()
    {
        var d = new PartitionOptions();
        return new PartitionOptions
        {
            Policy = Name,
            K = K ?? d.K,
            GapSeconds = GapSeconds ?? d.GapSeconds,
            Period = Period is string p && Enum.TryParse(p, ignoreCase: true, out CalendarPeriod period) ? period : d.Period,
            TimeZone = TimeZone ?? d.TimeZone,
            DriftWindow = DriftWindow ?? d.DriftWindow,
            DriftThreshold = DriftThreshold ?? d.DriftThreshold,
            Caps = new PartitionCaps { MaxEvents = MaxEvents, MaxPromptTokens = MaxPromptTokens },
        };
    }

    /// <summary>e.g. "count policy k=10".</summary>
    public string Describe() => Name switch
    {
        "count" => $"count policy k={K}",
        "gap" => $"gap policy gap_seconds={GapSeconds}",
        "window" => $"window policy period={Period} time_zone={TimeZone}",
        "drift" => string.Create(CultureInfo.InvariantCulture, $"drift policy drift_window={DriftWindow} drift_threshold={DriftThreshold}"),
        _ => $"{Name} policy",
    };
}

/// <summary>Who wrote the interest texts and how.</summary>
public sealed record UilSetup
{
    /// <summary>template, openai or llama.</summary>
    [JsonPropertyName("backend")] public required string Backend { get; init; }

    /// <summary>Model name (the template writer's version for the template backend).</summary>
    [JsonPropertyName("model")] public required string Model { get; init; }

    /// <summary>two-call or one-call.</summary>
    [JsonPropertyName("mode")] public required string Mode { get; init; }

    /// <summary>Prompt template version (part of every cached answer's key).</summary>
    [JsonPropertyName("template_version")] public required string TemplateVersion { get; init; }

    /// <summary>Prompt domain (movies, music, generic).</summary>
    [JsonPropertyName("domain")] public required string Domain { get; init; }
}
