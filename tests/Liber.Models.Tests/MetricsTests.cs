using Liber.Models.Training;

namespace Liber.Models.Tests;

/// <summary>Metrics against values worked out by hand.</summary>
public sealed class MetricsTests
{
    [Fact]
    public void Auc_of_a_perfect_and_a_reversed_ranking()
    {
        Assert.Equal(1.0, Metrics.Auc([0.1f, 0.2f, 0.8f, 0.9f], [0, 0, 1, 1]));
        Assert.Equal(0.0, Metrics.Auc([0.9f, 0.8f, 0.2f, 0.1f], [0, 0, 1, 1]));
    }

    [Fact]
    public void Auc_counts_one_pair_out_of_order()
    {
        // Pairs (pos, neg): (0.7, 0.1) ok, (0.7, 0.8) wrong, (0.9, 0.1) ok, (0.9, 0.8) ok -> 3/4.
        Approx.Equal(0.75, Metrics.Auc([0.1f, 0.8f, 0.7f, 0.9f], [0, 0, 1, 1]));
    }

    [Fact]
    public void Auc_ties_count_one_half()
    {
        // pos 0.5 vs neg 0.5 tie (1/2), pos 0.5 vs neg 0.2 ok, pos 0.9 vs both ok -> 3.5 / 4.
        Approx.Equal(0.875, Metrics.Auc([0.5f, 0.2f, 0.5f, 0.9f], [0, 0, 1, 1]));
        // All scores equal: 0.5 exactly.
        Approx.Equal(0.5, Metrics.Auc([0.3f, 0.3f, 0.3f], [1, 0, 1]));
    }

    [Fact]
    public void Auc_is_nan_when_undefined()
    {
        Assert.True(double.IsNaN(Metrics.Auc([], [])));
        Assert.True(double.IsNaN(Metrics.Auc([0.1f, 0.4f], [1, 1])));
    }

    [Fact]
    public void LogLoss_by_hand_and_clipped()
    {
        // -(ln 0.8 + ln(1 - 0.4)) / 2
        double expected = -(Math.Log(0.8) + Math.Log(0.6)) / 2;
        Approx.Equal(expected, Metrics.LogLoss([0.8f, 0.4f], [1, 0]));
        // A confident mistake is clipped at 1e-7, not infinite: -ln(1e-7) = 16.118...
        Approx.Equal(-Math.Log(1e-7), Metrics.LogLoss([0f], [1]));
        Assert.True(double.IsNaN(Metrics.LogLoss([], [])));
    }

    [Fact]
    public void Gauc_weights_users_by_samples_and_leaves_out_single_class_users()
    {
        // User 1: 3 samples, pairs (0.9>0.2 ok), (0.9>0.6 ok) -> AUC 1.
        // User 2: 4 samples, pos {0.3, 0.7}, neg {0.5, 0.1}: ok (0.3>0.1), wrong (0.3<0.5), ok, ok -> 0.75.
        // User 3: all positive -> left out.
        float[] scores = [0.9f, 0.2f, 0.6f, 0.3f, 0.5f, 0.7f, 0.1f, 0.4f, 0.8f];
        float[] labels = [1, 0, 0, 1, 0, 1, 0, 1, 1];
        int[] users = [1, 1, 1, 2, 2, 2, 2, 3, 3];
        double expected = ((3 * 1.0) + (4 * 0.75)) / 7;
        Approx.Equal(expected, Metrics.Gauc(scores, labels, users));
    }

    [Fact]
    public void Gauc_is_nan_without_any_two_class_user()
    {
        Assert.True(double.IsNaN(Metrics.Gauc([], [], [])));
        Assert.True(double.IsNaN(Metrics.Gauc([0.2f, 0.4f], [1, 0], [1, 2])));
    }

    [Fact]
    public void Inputs_of_different_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Metrics.Auc([0.1f], [1, 0]));
    }

    private static readonly System.Text.Json.JsonSerializerOptions NamedFloats = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    [Theory]
    [InlineData(0, 0)]
    [InlineData(49, 0)]
    [InlineData(50, 1)]
    [InlineData(199, 1)]
    [InlineData(200, 2)]
    [InlineData(999, 2)]
    [InlineData(1000, 3)]
    [InlineData(100_000, 3)]
    public void Lifelong_bucket_boundaries(int earlierEvents, int bucket)
    {
        Assert.Equal(bucket, HistoryBuckets.Of(earlierEvents));
    }

    [Fact]
    public void Bucket_metrics_are_the_metrics_of_each_buckets_samples()
    {
        float[] scores = [0.9f, 0.2f, 0.6f, 0.3f, 0.5f, 0.7f];
        float[] labels = [1, 0, 0, 1, 1, 0];
        int[] users = [1, 1, 2, 2, 3, 3];
        int[] earlier = [10, 49, 50, 60, 1000, 1200];
        SplitMetrics m = SplitMetrics.Of(scores, labels, users, earlier);
        Assert.Equal(["0-49", "50-199", "200-999", "1000+"], m.Buckets!.Select(b => b.Bucket));
        Assert.Equal([2, 2, 0, 2], m.Buckets!.Select(b => b.Metrics.Samples));
        Approx.Equal(1.0, m.Buckets![0].Metrics.Auc);                         // 0.9 (pos) above 0.2 (neg)
        Approx.Equal(0.0, m.Buckets![1].Metrics.Auc);                         // 0.3 (pos) below 0.6 (neg)
        Assert.True(double.IsNaN(m.Buckets![2].Metrics.Auc));                 // empty
        Approx.Equal(0.0, m.Buckets![3].Metrics.Auc);                         // 0.5 (pos) below 0.7 (neg)
        Approx.Equal(Metrics.Auc(scores, labels), m.Auc);
        Assert.Equal((1000, (int?)null), (m.Buckets![3].MinEvents, m.Buckets![3].MaxEvents));
        Assert.Null(SplitMetrics.Of(scores, labels, users).Buckets);
        Assert.Equal(m, SplitMetrics.Of(scores, labels, users, earlier));
        Assert.NotEqual(m, SplitMetrics.Of(scores, labels, users, [10, 49, 50, 60, 100, 1200]));
        Assert.Contains("\"buckets\"", System.Text.Json.JsonSerializer.Serialize(m, NamedFloats), StringComparison.Ordinal);
    }
}
