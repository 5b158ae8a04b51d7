using Liber.Core.Data;
using Liber.Core.Streams;

namespace Liber.Core.Tests.Streams;

public sealed class SampleSetTests
{
    private static Dataset OneUser(int events, long user = 1, long start = 1000, float rating = 4)
    {
        var rows = Enumerable.Range(0, events).Select(i => (user, (long)i, start + i, rating)).ToArray();
        return StreamFixtures.Make(rows);
    }

    [Theory]
    [InlineData(10, 8, 1, 1)]
    [InlineData(7, 5, 1, 1)]
    [InlineData(19, 15, 2, 2)]
    [InlineData(1, 0, 0, 1)]
    [InlineData(3, 2, 0, 1)]
    public void Split_rounds_exactly_as_the_protocol(int samples, int train, int valid, int test)
    {
        var set = SampleSet.Build(UserStreams.Build(OneUser(samples + 5)), new SampleOptions { MinHistory = 5 });

        Assert.Equal(samples, set.Count);
        Assert.Equal((train, valid, test), (set.TrainCount, set.ValidCount, set.TestCount));
    }

    [Fact]
    public void Min_history_excludes_early_events_and_counts_them()
    {
        var ds = StreamFixtures.Make([.. OneUserRows(1, 8), .. OneUserRows(2, 3), .. OneUserRows(3, 5)]);
        var set = SampleSet.Build(UserStreams.Build(ds), new SampleOptions { MinHistory = 5 });

        Assert.Equal(5 + 3 + 5, set.MinHistoryExcluded);
        Assert.Equal(3, set.Count);
        for (int i = 0; i < set.Count; i++)
        {
            Assert.True(set[i].Index >= 5);
        }

        static (long, long, long, float)[] OneUserRows(long user, int n) =>
            Enumerable.Range(0, n).Select(i => (user, (long)i, 1000L + i, 4f)).ToArray();
    }

    [Fact]
    public void Labels_follow_the_threshold()
    {
        float[] ratings = [1, 2, 3, 4, 5, 3.5f, 4, 4.5f, 2];
        var ds = StreamFixtures.Make(ratings.Select((r, i) => (1L, (long)i, 100L + i, r)).ToArray());
        var set = SampleSet.Build(UserStreams.Build(ds), new SampleOptions { MinHistory = 0, Threshold = 4 });
        Assert.Equal([0, 0, 0, 1, 1, 0, 1, 1, 0], Enumerable.Range(0, set.Count).Select(set.Label).ToArray());

        var lower = SampleSet.Build(UserStreams.Build(ds), new SampleOptions { MinHistory = 0, Threshold = 3.5f });
        Assert.Equal(5, Enumerable.Range(0, lower.Count).Sum(lower.Label));
        Assert.Equal(4f, SampleSet.Build(UserStreams.Build(ds), new SampleOptions { MinHistory = 0 }).Threshold);
    }

    [Fact]
    public void Global_order_is_timestamp_then_user_then_index_and_cut_timestamps_are_reported()
    {
        var ds = StreamFixtures.Make(
            (2, 1, 50, 4), (2, 2, 50, 4), (1, 3, 50, 4), (1, 4, 10, 4), (3, 5, 70, 4), (1, 6, 60, 4), (3, 7, 5, 4),
            (2, 8, 90, 4), (1, 9, 90, 4), (3, 10, 95, 4));
        var set = SampleSet.Build(UserStreams.Build(ds), new SampleOptions { MinHistory = 0 });

        var order = Enumerable.Range(0, set.Count).Select(i => set[i]).ToList();
        var keys = order.Select(o => (set.Streams.Timestamps[o.Row], ds.Users.External(o.User), o.Index)).ToList();
        Assert.Equal(
            [(5L, "3", 0), (10L, "1", 0), (50L, "1", 1), (50L, "2", 0), (50L, "2", 1), (60L, "1", 2), (70L, "3", 1), (90L, "1", 3), (90L, "2", 2), (95L, "3", 2)],
            keys);
        Assert.Equal((8, 1, 1), (set.TrainCount, set.ValidCount, set.TestCount));
        Assert.Equal(90L, set.TrainEndTimestamp); // 8th sample
        Assert.Equal(90L, set.ValidEndTimestamp); // 9th sample
    }

    [Fact]
    public void Random_data_order_matches_a_reference_sort()
    {
        for (int seed = 0; seed < 10; seed++)
        {
            Dataset ds = StreamFixtures.Random(seed, users: 6, maxEvents: 30, timeSpread: 20);
            var streams = UserStreams.Build(ds);
            var set = SampleSet.Build(streams, new SampleOptions { MinHistory = 2 });
            var reference = Enumerable.Range(0, streams.UserCount)
                .SelectMany(u => Enumerable.Range(2, Math.Max(0, streams.Length(u) - 2)).Select(i => (u, i)))
                .OrderBy(s => streams.Timestamps[streams.Row(s.u, s.i)]).ThenBy(s => s.u).ThenBy(s => s.i)
                .ToList();
            Assert.Equal(reference, Enumerable.Range(0, set.Count).Select(k => (set[k].User, set[k].Index)).ToList());
        }
    }

    [Fact]
    public void History_is_the_last_L_events_strictly_before_the_sample()
    {
        var streams = UserStreams.Build(OneUser(30));
        var set = SampleSet.Build(streams, new SampleOptions { MinHistory = 5, HistoryLength = 20 });
        for (int k = 0; k < set.Count; k++)
        {
            var (user, index, row) = set[k];
            Range h = set.History(k);
            Assert.Equal(row, h.End.Value);
            Assert.Equal(Math.Min(index, 20), h.End.Value - h.Start.Value);
            Assert.True(h.Start.Value >= streams.Offsets[user]);
        }
    }

    [Fact]
    public void Invalid_options_are_refused()
    {
        var streams = UserStreams.Build(OneUser(10));
        Assert.Throws<ArgumentException>(() => SampleSet.Build(streams, new SampleOptions { MinHistory = -1 }));
        Assert.Throws<ArgumentException>(() => SampleSet.Build(streams, new SampleOptions { HistoryLength = 0 }));
    }

    [Fact]
    public void Spread_uses_the_middle_values()
    {
        Assert.Equal(new Spread(1, 2, 9), Spread.Of([9, 1, 2]));
        Assert.Equal(new Spread(1, 2.5, 9), Spread.Of([9, 1, 2, 3]));
        Assert.Equal(new Spread(0, 0, 0), Spread.Of([]));
    }
}
