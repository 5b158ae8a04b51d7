namespace Liber.Core.Streams;

/// <summary>Options of sample construction (protocol sections 2-4).</summary>
public sealed record SampleOptions
{
    /// <summary>Samples with fewer earlier events than this are excluded (default 5).</summary>
    public int MinHistory { get; init; } = 5;

    /// <summary>Label threshold: rating &gt;= threshold is a positive; null takes the data set's default.</summary>
    public float? Threshold { get; init; }

    /// <summary>Short-term history window L (default 20).</summary>
    public int HistoryLength { get; init; } = 20;

    /// <summary>Implicit data: negatives drawn per positive; null takes 4 for implicit data and 0 for rated data (which has its own negatives).</summary>
    public int? Negatives { get; init; }

    /// <summary>Implicit data: how negatives are drawn (default: by popularity strictly before the sample's time).</summary>
    public NegativeSampling NegativeSampling { get; init; } = NegativeSampling.Popularity;

    /// <summary>Implicit data: the negative sampler's seed. Fixed by default so every backbone and run sees the same negatives.</summary>
    public int NegativeSeed { get; init; } = 20_240_101;

    /// <summary>The default number of negatives per positive for implicit data.</summary>
    public const int DefaultImplicitNegatives = 4;

    /// <summary>Validates the options.</summary>
    public void Validate()
    {
        if (Negatives is < 0 or > 1000)
        {
            throw new ArgumentException($"negatives per positive must be in 0..1000, got {Negatives}");
        }

        if (MinHistory < 0)
        {
            throw new ArgumentException($"min_history must be >= 0, got {MinHistory}");
        }

        if (HistoryLength < 1)
        {
            throw new ArgumentException($"history length L must be >= 1, got {HistoryLength}");
        }
    }
}

/// <summary>Which part of the temporal split a sample belongs to.</summary>
public enum Split
{
    /// <summary>The first floor(0.8 N) samples.</summary>
    Train,

    /// <summary>The next floor(0.9 N) - floor(0.8 N) samples.</summary>
    Valid,

    /// <summary>The rest.</summary>
    Test,
}

/// <summary>
/// The CTR samples of a data set in global temporal order (timestamp, user, index), split 80/10/10 by
/// count exactly as the protocol rounds. A sample is only a reference to a row of <see cref="UserStreams"/>
/// (user and index in the user's stream); histories are never copied per sample.
/// </summary>
public sealed class SampleSet
{
    private readonly int[] _rows;
    private readonly int[] _users;
    private readonly int[]? _items; // implicit data: the target item of each sample (a positive's own item, or a drawn negative)

    private SampleSet(UserStreams streams, SampleOptions options, float threshold, int[] rows, int[] users, int excluded, int[]? items, int negatives)
    {
        Streams = streams;
        Options = options;
        Threshold = threshold;
        _rows = rows;
        _users = users;
        _items = items;
        NegativesPerPositive = negatives;
        MinHistoryExcluded = excluded;
        // The 80/10/10 split counts positives (events); a positive's negatives follow it into its split.
        long events = rows.Length / (negatives + 1);
        TrainCount = (int)(events * 8 / 10) * (negatives + 1);
        ValidCount = (int)(events * 9 / 10) * (negatives + 1) - TrainCount;
    }

    /// <summary>Implicit data: sampled negatives per positive (each positive is followed by its negatives); 0 for rated data.</summary>
    public int NegativesPerPositive { get; }

    /// <summary>Whether the labels come from drawn negatives (implicit data) rather than ratings.</summary>
    public bool IsImplicit => _items is not null;

    /// <summary>The streams the samples refer to.</summary>
    public UserStreams Streams { get; }

    /// <summary>The options used.</summary>
    public SampleOptions Options { get; }

    /// <summary>The label threshold in force.</summary>
    public float Threshold { get; }

    /// <summary>Number of samples (after the min_history exclusion).</summary>
    public int Count => _rows.Length;

    /// <summary>Events excluded for having fewer than min_history earlier events.</summary>
    public int MinHistoryExcluded { get; }

    /// <summary>Train samples: positions [0, TrainCount).</summary>
    public int TrainCount { get; }

    /// <summary>Validation samples: positions [TrainCount, TrainCount + ValidCount).</summary>
    public int ValidCount { get; }

    /// <summary>Test samples: the rest.</summary>
    public int TestCount => Count - TrainCount - ValidCount;

    /// <summary>Stream rows of the samples, in global temporal order.</summary>
    public ReadOnlySpan<int> Rows => _rows;

    /// <summary>User of each sample, in global temporal order.</summary>
    public ReadOnlySpan<int> Users => _users;

    /// <summary>The sample at an ordinal position.</summary>
    public (int User, int Index, int Row) this[int ordinal]
    {
        get
        {
            int row = _rows[ordinal], user = _users[ordinal];
            return (user, row - Streams.Offsets[user], row);
        }
    }

    /// <summary>The label (1 or 0) of a sample: rating &gt;= threshold for rated data; for implicit data 1 for a positive, 0 for its negatives.</summary>
    public int Label(int ordinal) => _items is null
        ? Streams.Ratings[_rows[ordinal]] >= Threshold ? 1 : 0
        : ordinal % (NegativesPerPositive + 1) == 0 ? 1 : 0;

    /// <summary>The target item of a sample: the event's item, or for an implicit negative the drawn item.</summary>
    public int TargetItem(int ordinal) => _items is null ? Streams.Items[_rows[ordinal]] : _items[ordinal];

    /// <summary>Which split an ordinal position is in.</summary>
    public Split SplitOf(int ordinal) => ordinal < TrainCount ? Split.Train : ordinal < TrainCount + ValidCount ? Split.Valid : Split.Test;

    /// <summary>The ordinal range of a split.</summary>
    public Range RangeOf(Split split) => split switch
    {
        Split.Train => new Range(0, TrainCount),
        Split.Valid => new Range(TrainCount, TrainCount + ValidCount),
        _ => new Range(TrainCount + ValidCount, Count),
    };

    /// <summary>Timestamp of the last train sample (the train cut), or null when there is none.</summary>
    public long? TrainEndTimestamp => TrainCount > 0 ? Streams.Timestamps[_rows[TrainCount - 1]] : null;

    /// <summary>Timestamp of the last validation sample, or null when there is none.</summary>
    public long? ValidEndTimestamp => ValidCount > 0 ? Streams.Timestamps[_rows[TrainCount + ValidCount - 1]] : null;

    /// <summary>
    /// The short-term history of a sample: the stream rows of the last L events strictly before it
    /// (never the sample's own event or a later one).
    /// </summary>
    public Range History(int ordinal)
    {
        int row = _rows[ordinal], start = Streams.Offsets[_users[ordinal]];
        return new Range(Math.Max(start, row - Options.HistoryLength), row);
    }

    /// <summary>Builds the samples of a set of streams.</summary>
    public static SampleSet Build(UserStreams streams, SampleOptions? options = null)
    {
        options ??= new SampleOptions();
        options.Validate();
        float threshold = options.Threshold ?? streams.Dataset.Scale.DefaultThreshold;
        ReadOnlySpan<int> offsets = streams.Offsets;
        ReadOnlySpan<long> ts = streams.Timestamps;
        int excluded = 0, count = 0;
        for (int u = 0; u < streams.UserCount; u++)
        {
            int n = offsets[u + 1] - offsets[u];
            excluded += Math.Min(n, options.MinHistory);
            count += Math.Max(0, n - options.MinHistory);
        }

        // Order key: timestamp (high 32 bits), then row. Rows are ordered by (user, index), so this is
        // exactly the protocol's (timestamp, user, index) order, and keys are unique.
        var keys = new ulong[count];
        int k = 0;
        for (int u = 0; u < streams.UserCount; u++)
        {
            for (int row = offsets[u] + options.MinHistory; row < offsets[u + 1]; row++)
            {
                keys[k++] = ((ulong)ts[row] << 32) | (uint)row;
            }
        }

        Array.Sort(keys);
        bool implicitData = streams.Dataset.Scale.Min >= streams.Dataset.Scale.Max;
        int negatives = options.Negatives ?? (implicitData ? SampleOptions.DefaultImplicitNegatives : 0);
        if (negatives > 0 && !implicitData)
        {
            throw new ArgumentException($"negatives per positive ({negatives}) apply to implicit data only; {streams.Dataset.Kind} has ratings ({streams.Dataset.Scale.Min}..{streams.Dataset.Scale.Max}), whose low ratings are its negatives");
        }

        int width = negatives + 1;
        var rows = new int[(long)count * width];
        var users = new int[rows.Length];
        int[]? items = implicitData ? new int[rows.Length] : null;
        var sampler = implicitData && negatives > 0 ? new NegativeSampler(streams, options.NegativeSampling, options.NegativeSeed) : null;
        for (int i = 0; i < count; i++)
        {
            int row = (int)(keys[i] & 0xFFFFFFFF), user = streams.UserOfRow(row), at = i * width;
            rows.AsSpan(at, width).Fill(row);
            users.AsSpan(at, width).Fill(user);
            if (items is not null)
            {
                items[at] = streams.Items[row];
                sampler?.Draw(user, row, items.AsSpan(at + 1, negatives));
            }
        }

        return new SampleSet(streams, options, threshold, rows, users, excluded, items, negatives);
    }
}
