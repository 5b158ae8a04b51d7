namespace Liber.Knowledge.Tests;

public sealed class TextSimilarityTests
{
    [Fact]
    public void Every_pair_is_used_when_few_and_worked_out_by_hand()
    {
        // Rows: 0 A (1,0); 1 B (2,0) (not unit: cosine normalises); 2 A (0,1); 3 B (0.6,0.8); 4 C (0,0), left out.
        var m = new EmbeddingMatrix([1, 0, 2, 0, 0, 1, 0.6f, 0.8f, 0, 0], count: 5, dimension: 2);
        TextSimilarity s = TextSimilarity.Of(m, ["A", "B", "A", "B", "C"]);

        // Consecutive: A 0->2 = 0, B 1->3 = 0.6. Same group: (0,2) = 0, (1,3) = 0.6.
        // Different groups: (0,1) = 1, (0,3) = 0.6, (1,2) = 0, (2,3) = 0.8 -> 2.4 / 4.
        Assert.False(s.Sampled);
        Assert.Equal(2, s.Groups);
        Approx.Equal(0.3, s.Consecutive);
        Assert.Equal(2, s.ConsecutivePairs);
        Approx.Equal(0.3, s.SameGroup);
        Assert.Equal(2, s.SameGroupPairs);
        Approx.Equal(0.6, s.OtherGroups);
        Assert.Equal(4, s.OtherGroupPairs);
    }

    [Fact]
    public void Many_texts_are_sampled_with_a_seed()
    {
        // 700 texts (244,650 pairs > MaxPairs): group A is always (1,0), group B always (0,1).
        const int n = 700;
        var data = new float[n * 2];
        var groups = new string[n];
        for (int i = 0; i < n; i++)
        {
            groups[i] = i % 3 == 0 ? "B" : "A";
            data[(i * 2) + (groups[i] == "A" ? 0 : 1)] = 1;
        }

        TextSimilarity s = TextSimilarity.Of(new EmbeddingMatrix(data, n, 2), groups);
        Assert.True(s.Sampled);
        Approx.Equal(1.0, s.Consecutive);
        Approx.Equal(1.0, s.SameGroup);
        Approx.Equal(0.0, s.OtherGroups);
        Assert.Equal(TextSimilarity.MaxPairs, s.SameGroupPairs);                // every draw has a partner in its group
        Assert.InRange(s.OtherGroupPairs, 80_000, 100_000);                     // 2 x (1/3) x (2/3) of the draws
        Assert.Equal(s, TextSimilarity.Of(new EmbeddingMatrix(data, n, 2), groups)); // same seed, same result
    }

    [Fact]
    public void Groups_must_match_the_rows()
    {
        Assert.Throws<ArgumentException>(() => TextSimilarity.Of(new EmbeddingMatrix(new float[4], 2, 2), ["A"]));
    }
}
