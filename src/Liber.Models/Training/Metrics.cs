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
    /// <summary>Computes all three metrics.</summary>
    public static SplitMetrics Of(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels, ReadOnlySpan<int> users) =>
        new(Metrics.Auc(probabilities, labels), Metrics.LogLoss(probabilities, labels), Metrics.Gauc(probabilities, labels, users), probabilities.Length);
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
