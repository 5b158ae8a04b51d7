using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Interests.Template;
using Liber.Models.Fusion;

namespace Liber.Pipeline.Tests;

/// <summary>The <c>stats</c> encoder in the offline chain: statistics vectors as summaries, their differences as shifts, no LLM.</summary>
public sealed class StatsEncoderChainTests
{
    private static readonly SampleSet Samples = SampleSet.Build(UserStreams.Build(SyntheticWorld.Generate(new SyntheticOptions { Seed = 7, Users = 40, Items = 60, MeanEvents = 60 }).Dataset));

    private static float[] Row(TorchSharp.torch.Tensor table, int row) => table[row].data<float>().ToArray();

    [Fact]
    public void Each_partition_gets_its_statistics_and_the_change_from_the_previous_one_with_no_text_and_no_llm()
    {
        using LlmBackend backend = LlmBackend.Create("template", null, null, null, null, 1, TimeSpan.FromSeconds(5));
        using var source = LiberVectorSource.For(new LiberPipelineOptions { Encoder = ChainEncoders.Stats, Partition = new PartitionOptions { K = 10 } }, backend);
        using PartitionVectors vectors = source.Build(Samples);

        var encoder = new PartitionStatsEncoder(Samples.Streams, Samples.Threshold);
        PartitionSet set = source.Partitions!;
        Assert.True(set.Count > 100, $"{set.Count} partitions");
        Assert.Equal(encoder.Dimension, vectors.Dimension);
        Assert.Null(source.Texts);
        Assert.Equal(0, source.Accounting["llm_calls"]);
        Assert.Equal(0, source.Accounting["encoder_texts"]);
        Assert.Equal(set.Count, source.Accounting["partitions"]);
        Assert.Contains("encoder=stats", source.Name, StringComparison.Ordinal);
        Assert.Equal(encoder.Categories, vectors.StatsLayout!.Value.Categories);
        Assert.Equal(encoder.Decades.Count, vectors.StatsLayout!.Value.Decades);

        int withShift = 0;
        for (int r = 0; r < set.Count; r++)
        {
            Partition p = set.All[r];
            float[] expected = encoder.Encode(p);
            Assert.Equal(expected, Row(vectors.Summaries, r + 1));
            float[] shift = Row(vectors.Shifts, r + 1);
            if (p.Number == 0)
            {
                Assert.All(shift, v => Assert.Equal(0f, v));
                continue;
            }

            float[] previous = encoder.Encode(set.All[r - 1]);
            Assert.Equal(p.User, set.All[r - 1].User);
            for (int j = 0; j < shift.Length; j++)
            {
                Assert.Equal(expected[j] - previous[j], shift[j], 1e-6f);
            }

            withShift += shift.Any(v => v != 0) ? 1 : 0;
        }

        Assert.True(withShift > set.Count / 2, $"{withShift} of {set.Count} shifts are non-zero");
    }

    [Fact]
    public void The_per_user_variant_gets_one_statistics_vector_per_user_with_a_history()
    {
        using LlmBackend backend = LlmBackend.Create("template", null, null, null, null, 1, TimeSpan.FromSeconds(5));
        using var source = LiberVectorSource.For(new LiberPipelineOptions { Encoder = ChainEncoders.Stats, Variant = FusionVariant.PerUser }, backend);
        using PartitionVectors vectors = source.Build(Samples);
        Assert.True(vectors.IsPerUser);
        var encoder = new PartitionStatsEncoder(Samples.Streams, Samples.Threshold);
        foreach (Partition p in source.Partitions!.All)
        {
            Assert.Equal(encoder.Encode(p), Row(vectors.Summaries, p.User + 1));
        }
    }

    [Fact]
    public void The_chain_lists_the_stats_encoder_after_the_text_encoders_and_labels_it_not_llm()
    {
        Assert.Equal(["minilm", "arctic-xs", "openai", "stats"], ChainEncoders.Names);
        Assert.False(ChainEncoders.IsText("stats"));
        Assert.True(ChainEncoders.IsText("minilm"));
        Assert.Contains("not LLM", ChainEncoders.Describe("stats"), StringComparison.Ordinal);
    }
}
