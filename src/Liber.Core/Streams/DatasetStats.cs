using System.Text.Json.Serialization;

namespace Liber.Core.Streams;

/// <summary>Minimum, median and maximum of a distribution of counts.</summary>
public sealed record Spread(
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("median")] double Median,
    [property: JsonPropertyName("max")] double Max)
{
    /// <summary>The spread of a list of values (median: mean of the two middle values for an even count).</summary>
    public static Spread Of(IReadOnlyList<int> values)
    {
        if (values.Count == 0)
        {
            return new Spread(0, 0, 0);
        }

        int[] sorted = [.. values];
        Array.Sort(sorted);
        int m = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + (double)sorted[m]) / 2;
        return new Spread(sorted[0], median, sorted[^1]);
    }
}

/// <summary>The statistics of a loaded data set under the protocol (what <c>liber data stats</c> prints).</summary>
public sealed record DatasetStats
{
    /// <summary>Data set kind.</summary>
    [JsonPropertyName("dataset")] public required string Dataset { get; init; }

    /// <summary>Where it came from.</summary>
    [JsonPropertyName("source")] public required string Source { get; init; }

    /// <summary>Users with at least one event.</summary>
    [JsonPropertyName("users")] public int Users { get; init; }

    /// <summary>Distinct items with at least one event.</summary>
    [JsonPropertyName("items")] public int Items { get; init; }

    /// <summary>Items in the metadata file(s).</summary>
    [JsonPropertyName("catalog_items")] public int CatalogItems { get; init; }

    /// <summary>Events kept (after duplicates were dropped).</summary>
    [JsonPropertyName("events")] public int Events { get; init; }

    /// <summary>Events with rating &gt;= threshold.</summary>
    [JsonPropertyName("positives")] public int Positives { get; init; }

    /// <summary>Implicit data: negatives drawn per positive (0 for rated data, whose low ratings are the negatives).</summary>
    [JsonPropertyName("negatives_per_positive")] public int NegativesPerPositive { get; init; }

    /// <summary>Implicit data: how negatives were drawn (null for rated data).</summary>
    [JsonPropertyName("negative_sampling")] public string? NegativeSampling { get; init; }

    /// <summary>Label threshold used.</summary>
    [JsonPropertyName("threshold")] public float Threshold { get; init; }

    /// <summary>Duplicate events (same user, item, timestamp) dropped.</summary>
    [JsonPropertyName("duplicates_dropped")] public int DuplicatesDropped { get; init; }

    /// <summary>Rows skipped under --on-bad-row skip.</summary>
    [JsonPropertyName("bad_rows_skipped")] public int BadRowsSkipped { get; init; }

    /// <summary>Skipped rows by reason.</summary>
    [JsonPropertyName("bad_rows_by_reason")] public IReadOnlyDictionary<string, int> BadRowsByReason { get; init; } = new Dictionary<string, int>();

    /// <summary>Rows kept but folded into another event (e.g. repeat implicit interactions), by what was done.</summary>
    [JsonPropertyName("rows_folded")] public IReadOnlyDictionary<string, int> RowsFolded { get; init; } = new Dictionary<string, int>();

    /// <summary>min_history in force.</summary>
    [JsonPropertyName("min_history")] public int MinHistory { get; init; }

    /// <summary>Events excluded from samples by min_history.</summary>
    [JsonPropertyName("min_history_excluded")] public int MinHistoryExcluded { get; init; }

    /// <summary>CTR samples.</summary>
    [JsonPropertyName("samples")] public int Samples { get; init; }

    /// <summary>Train samples.</summary>
    [JsonPropertyName("train")] public int Train { get; init; }

    /// <summary>Validation samples.</summary>
    [JsonPropertyName("valid")] public int Valid { get; init; }

    /// <summary>Test samples.</summary>
    [JsonPropertyName("test")] public int Test { get; init; }

    /// <summary>Timestamp of the last train sample.</summary>
    [JsonPropertyName("train_end_timestamp")] public long? TrainEndTimestamp { get; init; }

    /// <summary>Timestamp of the last validation sample.</summary>
    [JsonPropertyName("valid_end_timestamp")] public long? ValidEndTimestamp { get; init; }

    /// <summary>Events per user.</summary>
    [JsonPropertyName("history_length")] public required Spread HistoryLength { get; init; }

    /// <summary>Computes the statistics of a sample set.</summary>
    public static DatasetStats Of(SampleSet samples)
    {
        UserStreams s = samples.Streams;
        var seen = new bool[s.Dataset.Items.Count];
        int distinct = 0, positives = 0;
        ReadOnlySpan<int> items = s.Items;
        ReadOnlySpan<float> ratings = s.Ratings;
        for (int r = 0; r < s.EventCount; r++)
        {
            if (!seen[items[r]])
            {
                seen[items[r]] = true;
                distinct++;
            }

            if (ratings[r] >= samples.Threshold)
            {
                positives++;
            }
        }

        var lengths = new int[s.UserCount];
        for (int u = 0; u < s.UserCount; u++)
        {
            lengths[u] = s.Length(u);
        }

        return new DatasetStats
        {
            Dataset = s.Dataset.Kind,
            Source = s.Dataset.Source,
            Users = s.UserCount,
            Items = distinct,
            CatalogItems = s.Dataset.CatalogItems,
            Events = s.EventCount,
            Positives = positives,
            Threshold = samples.Threshold,
            NegativesPerPositive = samples.NegativesPerPositive,
            NegativeSampling = samples.IsImplicit && samples.NegativesPerPositive > 0 ? samples.Options.NegativeSampling.ToString().ToLowerInvariant() : null,
            DuplicatesDropped = s.DuplicatesDropped,
            BadRowsSkipped = s.Dataset.Report.BadRowsSkipped,
            BadRowsByReason = s.Dataset.Report.SkippedByReason,
            RowsFolded = s.Dataset.Report.Folded,
            MinHistory = samples.Options.MinHistory,
            MinHistoryExcluded = samples.MinHistoryExcluded,
            Samples = samples.Count,
            Train = samples.TrainCount,
            Valid = samples.ValidCount,
            Test = samples.TestCount,
            TrainEndTimestamp = samples.TrainEndTimestamp,
            ValidEndTimestamp = samples.ValidEndTimestamp,
            HistoryLength = Spread.Of(lengths),
        };
    }
}
