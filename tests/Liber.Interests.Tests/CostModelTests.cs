using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Interests.Learning;
using Liber.Interests.Prompts;

namespace Liber.Interests.Tests;

/// <summary>The one UIL cost model: its curves grow to its totals, which <see cref="EfficiencyEstimate"/> reports.</summary>
public sealed class CostModelTests
{
    private static World W => World.Shared;

    [Theory]
    [InlineData(LearnMode.TwoCall)]
    [InlineData(LearnMode.OneCall)]
    public void Curves_end_at_the_totals_and_never_fall(LearnMode mode)
    {
        var renderer = new PromptRenderer(W.Streams, PromptTemplates.Load("movies"));
        var model = LlmCostModel.Compute(W.Streams, W.Partitions, renderer, new Cl100kTokenCounter(), mode);
        EfficiencyEstimate totals = model.Totals;
        Assert.Equal(totals, EfficiencyEstimate.Compute(W.Streams, W.Partitions, renderer, new Cl100kTokenCounter(), mode));
        IReadOnlyList<CostCurve> calls = model.Curves(promptTokens: false, points: 10);
        IReadOnlyList<CostCurve> tokens = model.Curves(promptTokens: true, points: 10);
        Assert.Equal([totals.LiberCalls, totals.NaivePerEventCalls, totals.PerUserCalls], calls.Select(c => (long)c.Values[^1]));
        Assert.Equal([totals.LiberPromptTokens, totals.NaivePerEventPromptTokens, totals.PerUserPromptTokens], tokens.Select(c => (long)c.Values[^1]));
        Assert.Equal(W.Streams.EventCount, calls[0].Events[^1]);
        Assert.All(calls.Concat(tokens), c => Assert.True(c.Values.Zip(c.Values.Skip(1)).All(p => p.First <= p.Second), $"{c.Label} never falls"));
        Assert.Contains(mode == LearnMode.TwoCall ? "two-call" : "one-call", calls[0].Label, StringComparison.Ordinal);
    }

    [Fact]
    public void Liber_calls_land_when_partitions_close()
    {
        // One user, 50 events, K = 10: five partitions close at events 10, 20, ..., 50.
        var world = SyntheticWorld.Generate(new SyntheticOptions { Seed = 2, Users = 1, Items = 60, MeanEvents = 50 });
        var streams = UserStreams.Build(world.Dataset);
        var options = new PartitionOptions { Policy = "count", K = 10 };
        var model = LlmCostModel.ForDataset(world.Dataset, options, LearnMode.TwoCall, "movies");
        int n = streams.EventCount, closed = n / 10;
        CostCurve liber = model.Curves(promptTokens: false, points: n)[0];
        for (int k = 0; k < n; k++)
        {
            int closedSoFar = (k + 1) / 10;
            Assert.Equal(closedSoFar == 0 ? 0 : (2 * closedSoFar) - 1, liber.Values[k]);
        }

        Assert.Equal((2 * closed) - 1, model.Totals.LiberCalls);
        Assert.Equal(1, model.Totals.PerUserCalls);
    }
}
