using Liber.Models.Training;

namespace Liber.Models.Tests;

public sealed class RankingMetricsTests
{
    [Fact]
    public void Hit_rate_and_ndcg_rank_each_positive_among_its_own_negatives()
    {
        // Three groups of 12 candidates (positive first): ranks 1, 3 and 12.
        float[] scores = new float[36];
        for (int j = 1; j < 12; j++)
        {
            scores[j] = 0.1f;           // group 0: positive 0.9 above all -> rank 1
            scores[12 + j] = j <= 2 ? 0.8f : 0.1f; // group 1: two negatives above 0.5 -> rank 3
            scores[24 + j] = 0.6f;      // group 2: all eleven above 0.2 -> rank 12
        }

        scores[0] = 0.9f;
        scores[12] = 0.5f;
        scores[24] = 0.2f;

        RankingMetrics m = RankingMetrics.Of(scores, candidates: 12);
        Assert.Equal(3, m.Groups);
        Assert.Equal(12, m.Candidates);
        Assert.Equal(2.0 / 3, m.HitRate, 1e-9);
        Assert.Equal((1.0 + (1.0 / Math.Log2(4))) / 3, m.Ndcg, 1e-9);
    }

    [Fact]
    public void A_constant_model_gets_no_credit_for_ties()
    {
        RankingMetrics m = RankingMetrics.Of(new float[100], candidates: 100);
        Assert.Equal(0, m.HitRate);
        Assert.Equal(0, m.Ndcg);
    }
}
