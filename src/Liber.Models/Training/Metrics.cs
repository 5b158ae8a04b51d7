using System.Text.Json.Serialization;

namespace Liber.Models.Training;

/// <summary>AUC, LogLoss and GAUC of one split. A metric that is undefined (no samples, a single class) is NaN.</summary>
/// <param name="Auc">Area under the ROC curve over all samples.</param>
/// <param name="LogLoss">Mean binary cross-entropy of the clipped probabilities.</param>
/// <param name="Gauc">Per-user AUC weighted by the user's samples (single-class users left out).</param>
/// <param name="Samples">Number of samples.</param>
public sealed record SplitMetrics(
    [property: JsonPropertyName("auc")] double Auc,
    [property: JsonPropertyName("logloss")] double LogLoss,
    [property: JsonPropertyName("gauc")] double Gauc,
    [property: JsonPropertyName("samples")] int Samples)
{
    /// <summary>The same metrics by the number of events the user had before the sample (lifelong buckets), or null when not computed.</summary>
    [JsonPropertyName("buckets")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<BucketMetrics>? Buckets { get; init; }

    /// <summary>Computes all three metrics.</summary>
    public static SplitMetrics Of(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels, ReadOnlySpan<int> users) =>
        new(Metrics.Auc(probabilities, labels), Metrics.LogLoss(probabilities, labels), Metrics.Gauc(probabilities, labels, users), probabilities.Length);

    /// <summary>Implicit data: HR@10 and NDCG@10 of each positive among its sampled negatives, or null for rated data.</summary>
    [JsonPropertyName("ranking")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RankingMetrics? Ranking { get; init; }

    /// <summary>Value equality over the metrics and the buckets' contents.</summary>
    public bool Equals(SplitMetrics? other) =>
        other is not null && Auc.Equals(other.Auc) && LogLoss.Equals(other.LogLoss) && Gauc.Equals(other.Gauc) && Samples == other.Samples
        && (ReferenceEquals(Buckets, other.Buckets) || (Buckets is not null && other.Buckets is not null && Buckets.SequenceEqual(other.Buckets)))
        && Equals(Ranking, other.Ranking);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Auc, LogLoss, Gauc, Samples, Buckets?.Count);

    /// <summary>The metrics of predictions <paramref name="probabilities"/> for the samples at <paramref name="ordinals"/>: labels, users and lifelong buckets come from the samples.</summary>
    public static SplitMetrics Of(ReadOnlySpan<float> probabilities, Liber.Core.Streams.SampleSet samples, Range ordinals)
    {
        ArgumentNullException.ThrowIfNull(samples);
        (int offset, int length) = ordinals.GetOffsetAndLength(samples.Count);
        var labels = new float[length];
        var users = new int[length];
        var earlier = new int[length];
        for (int i = 0; i < length; i++)
        {
            labels[i] = samples.Label(offset + i);
            users[i] = samples.Users[offset + i];
            earlier[i] = samples[offset + i].Index;
        }

        SplitMetrics metrics = Of(probabilities, labels, users, earlier);
        return samples.IsImplicit && samples.NegativesPerPositive > 0 && offset % (samples.NegativesPerPositive + 1) == 0
            ? metrics with { Ranking = RankingMetrics.Of(probabilities, samples.NegativesPerPositive + 1) }
            : metrics;
    }

    /// <summary>Computes all three metrics, overall and per <see cref="HistoryBuckets"/> bucket of <paramref name="earlierEvents"/> (the sample's index in its user's stream).</summary>
    public static SplitMetrics Of(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels, ReadOnlySpan<int> users, ReadOnlySpan<int> earlierEvents) =>
        Of(probabilities, labels, users) with { Buckets = HistoryBuckets.Evaluate(probabilities, labels, users, earlierEvents) };
}

/// <summary>Hit rate and NDCG at <paramref name="K"/> of each positive ranked among its own sampled negatives (implicit data).</summary>
/// <param name="K">The cut-off (10).</param>
/// <param name="Candidates">Candidates per positive: the positive and its negatives. With 10 or fewer, HR@10 is 1 by construction.</param>
/// <param name="HitRate">Share of positives ranked in the top K of their candidates.</param>
/// <param name="Ndcg">Mean of 1 / log2(rank + 1) over positives ranked in the top K (rank 1 = best; 0 otherwise).</param>
/// <param name="Groups">Positives evaluated.</param>
public sealed record RankingMetrics(
    [property: JsonPropertyName("k")] int K,
    [property: JsonPropertyName("candidates")] int Candidates,
    [property: JsonPropertyName("hr")] double HitRate,
    [property: JsonPropertyName("ndcg")] double Ndcg,
    [property: JsonPropertyName("groups")] int Groups)
{
    /// <summary>The cut-off reported.</summary>
    public const int DefaultK = 10;

    /// <summary>
    /// Ranks each group of <paramref name="candidates"/> consecutive scores (the positive first, then its negatives). Ties count
    /// against the positive (a negative scored equal ranks above it), so a constant model gets no credit.
    /// </summary>
    public static RankingMetrics Of(ReadOnlySpan<float> scores, int candidates, int k = DefaultK)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(candidates, 2);
        int groups = scores.Length / candidates, hits = 0;
        double ndcg = 0;
        for (int g = 0; g < groups; g++)
        {
            ReadOnlySpan<float> group = scores.Slice(g * candidates, candidates);
            int rank = 1;
            for (int j = 1; j < candidates; j++)
            {
                rank += group[j] >= group[0] ? 1 : 0;
            }

            if (rank <= k)
            {
                hits++;
                ndcg += 1.0 / Math.Log2(rank + 1);
            }
        }

        return groups == 0 ? new(k, candidates, double.NaN, double.NaN, 0) : new(k, candidates, (double)hits / groups, ndcg / groups, groups);
    }
}

/// <summary>The metrics of the samples whose users had <paramref name="MinEvents"/> to <paramref name="MaxEvents"/> - 1 earlier events.</summary>
/// <param name="Bucket">Label, e.g. <c>50-199</c>.</param>
/// <param name="MinEvents">Fewest earlier events in the bucket.</param>
/// <param name="MaxEvents">One more than the most earlier events in the bucket, or null for no upper bound.</param>
/// <param name="Metrics">AUC, LogLoss and GAUC of the bucket's samples (NaN where undefined, e.g. an empty bucket).</param>
public sealed record BucketMetrics(
    [property: JsonPropertyName("bucket")] string Bucket,
    [property: JsonPropertyName("min_events")] int MinEvents,
    [property: JsonPropertyName("max_events")] int? MaxEvents,
    [property: JsonPropertyName("metrics")] SplitMetrics Metrics);

/// <summary>
/// Lifelong buckets: samples grouped by how many events their user had before them, [0, 50), [50, 200), [200, 1000) and
/// [1000, inf). LIBER's claim is about long histories, so its lift is read per bucket as well as overall.
/// </summary>
public static class HistoryBuckets
{
    /// <summary>Lower edges of the buckets after the first (the first starts at 0).</summary>
    public static IReadOnlyList<int> Edges { get; } = [50, 200, 1000];

    /// <summary>The bucket of a sample with <paramref name="earlierEvents"/> earlier events (0-based).</summary>
    public static int Of(int earlierEvents)
    {
        int b = 0;
        while (b < Edges.Count && earlierEvents >= Edges[b])
        {
            b++;
        }

        return b;
    }

    /// <summary>Label of bucket <paramref name="bucket"/>: <c>0-49</c>, <c>50-199</c>, <c>200-999</c>, <c>1000+</c>.</summary>
    public static string Label(int bucket)
    {
        int min = bucket == 0 ? 0 : Edges[bucket - 1];
        return bucket < Edges.Count ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{min}-{Edges[bucket] - 1}") : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{min}+");
    }

    /// <summary>The metrics of every bucket, in order (empty buckets included, with NaN metrics and 0 samples).</summary>
    public static IReadOnlyList<BucketMetrics> Evaluate(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels, ReadOnlySpan<int> users, ReadOnlySpan<int> earlierEvents)
    {
        if (earlierEvents.Length != probabilities.Length)
        {
            throw new ArgumentException($"{earlierEvents.Length} history lengths for {probabilities.Length} samples");
        }

        var groups = new List<int>[Edges.Count + 1];
        for (int b = 0; b < groups.Length; b++)
        {
            groups[b] = [];
        }

        for (int i = 0; i < earlierEvents.Length; i++)
        {
            groups[Of(earlierEvents[i])].Add(i);
        }

        var result = new BucketMetrics[groups.Length];
        for (int b = 0; b < groups.Length; b++)
        {
            List<int> g = groups[b];
            float[] p = new float[g.Count], y = new float[g.Count];
            int[] u = new int[g.Count];
            for (int k = 0; k < g.Count; k++)
            {
                (p[k], y[k], u[k]) = (probabilities[g[k]], labels[g[k]], users[g[k]]);
            }

            SplitMetrics m = g.Count == 0 ? new SplitMetrics(double.NaN, double.NaN, double.NaN, 0) : SplitMetrics.Of(p, y, u);
            result[b] = new BucketMetrics(Label(b), b == 0 ? 0 : Edges[b - 1], b < Edges.Count ? Edges[b] : null, m);
        }

        return result;
    }
}

/// <summary>The CTR metrics of the protocol (section 8).</summary>
public static class Metrics
{
    /// <summary>Probabilities are clipped to [eps, 1 - eps] for LogLoss.</summary>
    public const double LogLossEpsilon = 1e-7;

    /// <summary>
    /// AUC by the rank-sum (Mann-Whitney) formula, tied scores taking their average rank (so a tie between a
    /// positive and a negative counts one half). NaN when there are no positives or no negatives.
    /// </summary>
    public static double Auc(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        RequireSameLength(scores.Length, labels.Length);
        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        float[] s = scores.ToArray();
        Array.Sort(s, order);
        double positives = 0, rankSum = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && s[j + 1] == s[i])
            {
                j++;
            }

            double averageRank = ((i + j) / 2.0) + 1;                          // 1-based average rank of the tie group
            for (int k = i; k <= j; k++)
            {
                if (labels[order[k]] > 0.5f)
                {
                    positives++;
                    rankSum += averageRank;
                }
            }

            i = j + 1;
        }

        double negatives = n - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        return (rankSum - (positives * (positives + 1) / 2)) / (positives * negatives);
    }

    /// <summary>Mean binary cross-entropy with probabilities clipped to [1e-7, 1 - 1e-7]; NaN for no samples.</summary>
    public static double LogLoss(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels)
    {
        RequireSameLength(probabilities.Length, labels.Length);
        if (probabilities.Length == 0)
        {
            return double.NaN;
        }

        double sum = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            double p = Math.Clamp(probabilities[i], LogLossEpsilon, 1 - LogLossEpsilon);
            sum -= labels[i] > 0.5f ? Math.Log(p) : Math.Log(1 - p);
        }

        return sum / probabilities.Length;
    }

    /// <summary>
    /// GAUC: the AUC of each user's samples, weighted by the user's sample count; users whose samples are all
    /// one class are left out (weights and all). NaN when no user has both classes.
    /// </summary>
    public static double Gauc(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, ReadOnlySpan<int> users)
    {
        RequireSameLength(scores.Length, labels.Length);
        RequireSameLength(scores.Length, users.Length);
        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        int[] keys = users.ToArray();
        Array.Sort(keys, order);                                               // group samples by user
        double weighted = 0, weights = 0;
        var groupScores = new List<float>();
        var groupLabels = new List<float>();
        for (int i = 0; i < n;)
        {
            int j = i;
            groupScores.Clear();
            groupLabels.Clear();
            while (j < n && keys[j] == keys[i])
            {
                groupScores.Add(scores[order[j]]);
                groupLabels.Add(labels[order[j]]);
                j++;
            }

            double auc = Auc(groupScores.ToArray(), groupLabels.ToArray());
            if (!double.IsNaN(auc))
            {
                weighted += auc * (j - i);
                weights += j - i;
            }

            i = j;
        }

        return weights == 0 ? double.NaN : weighted / weights;
    }

    private static void RequireSameLength(int a, int b)
    {
        if (a != b)
        {
            throw new ArgumentException($"metric inputs differ in length: {a} vs {b}");
        }
    }
}
