using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Core.Synthetic;

namespace Liber.Pipeline.Tests;

/// <summary>The <c>single</c> fusion's per-user history: leakage-sensitive, so tested directly.</summary>
public sealed class PerUserHistoryTests
{
    private static readonly SampleSet Samples = SampleSet.Build(UserStreams.Build(SyntheticWorld.Generate(new SyntheticOptions { Seed = 5, Users = 60, Items = 80, MeanEvents = 50 }).Dataset));
    private static readonly ItemFeatures Features = ItemFeatures.Build(Samples.Streams.Dataset, new Cl100kTokenCounter());

    // The rule: a validation or test sample never sees its own event or a later one through the user's pseudo-partition.
    private static List<string> Leaks(SampleSet samples, PartitionSet set)
    {
        var leaks = new List<string>();
        for (int i = samples.TrainCount; i < samples.Count; i++)
        {
            (int user, int index, _) = samples[i];
            foreach (Partition p in set.Of(user))
            {
                if (p.End >= index)
                {
                    leaks.Add($"sample {i} (user {user}, index {index}) sees partition [{p.Start}, {p.End}]");
                }
            }
        }

        return leaks;
    }

    [Fact]
    public void No_validation_or_test_sample_sees_its_own_or_a_later_event()
    {
        PartitionSet set = PerUserHistory.Build(Samples, Features, new PartitionCaps { MaxEvents = 1000, MaxPromptTokens = 1_000_000 });
        Assert.True(set.Count > 40, $"{set.Count} users have a history");
        Assert.Empty(Leaks(Samples, set));

        // Each history ends at the user's last event at or before the train cut: the cut itself is in, nothing after it.
        (int cu, int ci, int crow) = Samples[Samples.TrainCount - 1];
        Assert.Equal(ci, set.Of(cu)[0].End);
        long cutTime = Samples.Streams.Timestamps[crow];
        foreach (Partition p in set.All)
        {
            Assert.True(p.EndTime <= cutTime);
        }
    }

    [Fact]
    public void The_leak_check_catches_a_history_that_runs_to_the_end_of_the_stream()
    {
        // A deliberately leaking variant: every user's whole stream. The same check must fail on it.
        UserStreams s = Samples.Streams;
        var byUser = new List<Partition>[s.UserCount];
        for (int u = 0; u < s.UserCount; u++)
        {
            int last = s.Length(u) - 1;
            byUser[u] = [new Partition(u, 0, 0, last, s.Timestamps[s.Row(u, 0)], s.Timestamps[s.Row(u, last)], [], 0, "leaky")];
        }

        Assert.NotEmpty(Leaks(Samples, PartitionSet.FromUsers(byUser, new int[s.UserCount], "leaky")));
    }

    [Fact]
    public void A_history_keeps_the_most_recent_events_within_both_caps()
    {
        var caps = new PartitionCaps { MaxEvents = 7, MaxPromptTokens = 200 };
        PartitionSet set = PerUserHistory.Build(Samples, Features, caps);
        UserStreams s = Samples.Streams;
        foreach (Partition p in set.All)
        {
            Assert.InRange(p.Count, 1, caps.MaxEvents);
            int tokens = Enumerable.Range(p.Start, p.Count).Sum(i => Features.Tokens(s.Items[s.Row(p.User, i)]));
            Assert.Equal(tokens, p.PromptTokens);
            Assert.True(tokens <= caps.MaxPromptTokens || p.Count == 1);
        }
    }
}
