using Liber.Core.Data;
using Liber.Core.Readers;
using Liber.Core.Streams;

namespace Liber.Core.Tests.Streams;

public sealed class NegativeSamplingTests
{
    // An implicit data set (scale 1..1): users pick items at random times, with a popularity skew.
    private static Dataset Implicit(int seed, int users = 40, int items = 60, int events = 1200, (int Item, long Timestamp)[]? extra = null)
    {
        var rng = new Random(seed);
        var b = new DatasetBuilder("implicit-test", "memory", LastFm2KReader.Implicit, BadRowPolicy.Fail);
        for (int i = 0; i < items; i++)
        {
            b.EventItem(i); // every item exists from the start, most are rare
        }

        var seen = new HashSet<(int, int)>();
        for (int e = 0; e < events; e++)
        {
            int user = rng.Next(users), item = (int)(items * Math.Pow(rng.NextDouble(), 3));
            if (seen.Add((user, item)))
            {
                b.Events.Add(b.Users.GetOrAdd(user), b.EventItem(item), 1000 + rng.Next(300) * 86_400L, 1f);
            }
        }

        foreach ((int item, long timestamp) in extra ?? [])
        {
            b.Events.Add(b.Users.GetOrAdd(users + 1000), b.EventItem(item), timestamp, 1f); // a newcomer with too few events for a sample
        }

        return b.Build();
    }

    private static SampleSet Build(Dataset ds, SampleOptions? options = null) => SampleSet.Build(UserStreams.Build(ds), options);

    [Fact]
    public void Each_positive_is_followed_by_its_negatives_and_the_split_counts_positives()
    {
        SampleSet s = Build(Implicit(1));
        Assert.True(s.IsImplicit);
        Assert.Equal(SampleOptions.DefaultImplicitNegatives, s.NegativesPerPositive);
        int width = s.NegativesPerPositive + 1;
        Assert.Equal(0, s.Count % width);
        int positives = s.Count / width;
        Assert.Equal(positives * 8 / 10 * width, s.TrainCount);
        Assert.Equal((positives * 9 / 10 * width) - s.TrainCount, s.ValidCount);
        for (int i = 0; i < s.Count; i++)
        {
            int head = i - (i % width);
            Assert.Equal(i == head ? 1 : 0, s.Label(i));
            Assert.Equal(s[head].Row, s[i].Row); // same history as the positive
            Assert.Equal(s.SplitOf(head), s.SplitOf(i));
        }

        Assert.Equal(s.Streams.Items[s[0].Row], s.TargetItem(0));
    }

    [Theory]
    [InlineData(NegativeSampling.Popularity)]
    [InlineData(NegativeSampling.Uniform)]
    public void A_negative_is_never_an_item_the_user_had_interacted_with_at_or_before_the_positive(NegativeSampling mode)
    {
        SampleSet s = Build(Implicit(2), new SampleOptions { NegativeSampling = mode, Negatives = 6 });
        UserStreams st = s.Streams;
        int width = s.NegativesPerPositive + 1, checkedNegatives = 0;
        for (int i = 0; i < s.Count; i++)
        {
            if (s.Label(i) == 1)
            {
                continue;
            }

            (int user, _, int row) = s[i];
            long t = st.Timestamps[row];
            int negative = s.TargetItem(i);
            Assert.NotEqual(st.Items[row], negative);
            for (int r = st.Offsets[user]; r < st.Offsets[user + 1] && st.Timestamps[r] <= t; r++)
            {
                Assert.NotEqual(st.Items[r], negative);
            }

            checkedNegatives++;
        }

        Assert.Equal(s.Count / width * 6, checkedNegatives);
    }

    [Fact]
    public void Popularity_negatives_are_items_with_events_strictly_before_the_sample()
    {
        SampleSet s = Build(Implicit(3));
        UserStreams st = s.Streams;
        var firstSeen = new Dictionary<int, long>();
        for (int r = 0; r < st.EventCount; r++)
        {
            firstSeen[st.Items[r]] = Math.Min(firstSeen.GetValueOrDefault(st.Items[r], long.MaxValue), st.Timestamps[r]);
        }

        long earliest = st.Timestamps.ToArray().Min();
        int checkedNegatives = 0;
        for (int i = 0; i < s.Count; i++)
        {
            long t = st.Timestamps[s[i].Row];
            if (s.Label(i) == 0 && t > earliest)
            {
                // Drawn by counts over events strictly before t: an item first seen at or after t has count 0 then.
                Assert.True(firstSeen.TryGetValue(s.TargetItem(i), out long first) && first < t, $"sample {i} at {t} drew item {s.TargetItem(i)} first seen at {firstSeen.GetValueOrDefault(s.TargetItem(i))}");
                checkedNegatives++;
            }
        }

        Assert.True(checkedNegatives > 1000);
    }

    [Fact]
    public void Negatives_are_deterministic_for_a_seed_and_change_with_it()
    {
        Dataset ds = Implicit(4);
        int[] Items(SampleSet s) => [.. Enumerable.Range(0, s.Count).Select(s.TargetItem)];
        Assert.Equal(Items(Build(ds)), Items(Build(ds)));
        Assert.NotEqual(Items(Build(ds)), Items(Build(ds, new SampleOptions { NegativeSeed = 7 })));
    }

    [Fact]
    public void Popularity_sampling_follows_the_counts()
    {
        Dataset ds = Implicit(5, users: 200, events: 2000);
        int[] Head(NegativeSampling mode)
        {
            SampleSet s = Build(ds, new SampleOptions { NegativeSampling = mode, MinHistory = 1 });
            var drawn = new int[s.Streams.Dataset.Items.Count];
            for (int i = 0; i < s.Count; i++)
            {
                if (s.Label(i) == 0)
                {
                    drawn[s.TargetItem(i)]++;
                }
            }

            return drawn;
        }

        // Items 0..5 hold most events (the cubic skew): popularity draws them far more often than uniform does.
        int[] popular = Head(NegativeSampling.Popularity), uniform = Head(NegativeSampling.Uniform);
        Assert.True(popular[..6].Sum() > 2 * uniform[..6].Sum(), $"popularity {popular[..6].Sum()}, uniform {uniform[..6].Sum()}");
        Assert.True(popular[40..].Sum() < uniform[40..].Sum(), $"tail: popularity {popular[40..].Sum()}, uniform {uniform[40..].Sum()}");
    }

    [Fact]
    public void Rated_data_has_no_drawn_negatives_and_refuses_them()
    {
        Dataset rated = StreamFixtures.Random(1, users: 5, maxEvents: 20);
        SampleSet s = Build(rated);
        Assert.False(s.IsImplicit);
        Assert.Equal(0, s.NegativesPerPositive);
        Assert.Equal(s.Streams.Items[s[0].Row], s.TargetItem(0));
        var e = Assert.Throws<ArgumentException>(() => Build(rated, new SampleOptions { Negatives = 4 }));
        Assert.Contains("implicit data only", e.Message);
    }

    [Fact]
    public void Zero_negatives_leave_implicit_data_with_positives_only()
    {
        SampleSet s = Build(Implicit(6), new SampleOptions { Negatives = 0 });
        Assert.True(s.IsImplicit);
        Assert.All(Enumerable.Range(0, s.Count), i => Assert.Equal(1, s.Label(i)));
    }

    [Fact]
    public void A_user_who_has_seen_every_item_is_a_clear_error()
    {
        var b = new DatasetBuilder("implicit-test", "memory", LastFm2KReader.Implicit, BadRowPolicy.Fail);
        for (int i = 0; i < 4; i++)
        {
            b.Events.Add(b.Users.GetOrAdd(1L), b.EventItem(i), 1000 + i, 1f);
        }

        var e = Assert.Throws<ArgumentException>(() => Build(b.Build(), new SampleOptions { MinHistory = 3 }));
        Assert.Contains("user 1 has interacted with every one of the 4 items", e.Message);
    }

    [Fact]
    public void A_drawn_negative_gets_the_statistics_of_its_own_item_at_its_positives_moment()
    {
        SampleSet s = Build(Implicit(7));
        PointInTimeStats stats = PointInTimeStats.Compute(s);
        UserStreams st = s.Streams;
        int width = s.NegativesPerPositive + 1, checkedNegatives = 0;
        for (int o = 0; o < s.Count; o++)
        {
            (int user, int index, int row) = s[o];
            ReadOnlySpan<float> v = stats.Sample(s, o);
            if (s.Label(o) == 1)
            {
                Assert.Equal(stats.Row(row).ToArray(), v.ToArray());
                continue;
            }

            // The user's columns are the positive's: the same user at the same moment.
            ReadOnlySpan<float> positive = stats.Row(s[o - (o % width)].Row);
            Assert.Equal(positive[..3].ToArray(), v[..3].ToArray());

            // The item's columns count the drawn item's events strictly before the positive's time (brute force), never later ones.
            int drawn = s.TargetItem(o);
            long t = st.Timestamps[row], before = 0;
            for (int r = 0; r < st.EventCount; r++)
            {
                before += st.Items[r] == drawn && st.Timestamps[r] < t ? 1 : 0;
            }

            Assert.Equal(MathF.Log(1 + before) / 10, v[5], 5);
            Assert.True(v[6] is >= 0 and <= 1 && v[7] is >= -1e-6f and <= 1 + 1e-6f, $"sample {o}: item rates {v[6]}, {v[7]}");
            Assert.True(index >= 0 && user >= 0);
            checkedNegatives++;
        }

        Assert.Equal(s.Count / width * s.NegativesPerPositive, checkedNegatives);
    }

    [Fact]
    public void Statistics_computed_without_the_samples_refuse_a_negative_and_rated_data_needs_none()
    {
        SampleSet s = Build(Implicit(7));
        PointInTimeStats eventsOnly = PointInTimeStats.Compute(s.Streams, s.Threshold);
        _ = eventsOnly.Sample(s, 0); // a positive reads its event's row
        var e = Assert.Throws<ArgumentException>(() => eventsOnly.Sample(s, 1).ToArray());
        Assert.Contains("without the samples' drawn negatives", e.Message, StringComparison.Ordinal);

        SampleSet rated = Build(StreamFixtures.Random(1, users: 5, maxEvents: 20));
        PointInTimeStats r = PointInTimeStats.Compute(rated);
        Assert.Equal(r.Row(rated[3].Row).ToArray(), r.Sample(rated, 3).ToArray());
    }

    [Fact]
    public void A_negatives_statistics_never_read_its_items_future()
    {
        // Uniform draws do not depend on popularity, so all three sets draw the same negatives.
        var uniform = new SampleOptions { NegativeSampling = NegativeSampling.Uniform };
        SampleSet a = Build(Implicit(11), uniform);
        PointInTimeStats sa = PointInTimeStats.Compute(a);
        int o = Enumerable.Range(a.TrainCount, a.Count - a.TrainCount).First(i => a.Label(i) == 0);
        int drawn = a.TargetItem(o);
        long t = a.Streams.Timestamps[a[o].Row];

        // The drawn item becomes a hit at and after the negative's moment: its past, and so the negative's row, stays the same.
        SampleSet b = Build(Implicit(11, extra: [(drawn, t), (drawn, t + 1), (drawn, t + 86_400), (drawn, t + 2 * 86_400)]), uniform);
        PointInTimeStats sb = PointInTimeStats.Compute(b);
        Assert.Equal(a.Count, b.Count);
        Assert.Equal(drawn, b.TargetItem(o));
        Assert.Equal(sa.Sample(a, o).ToArray(), sb.Sample(b, o).ToArray());

        // The control: the same events a day earlier are its past, and the item columns see them.
        SampleSet c = Build(Implicit(11, extra: [(drawn, t - 86_400), (drawn, t - 86_399), (drawn, t - 86_398), (drawn, t - 86_397)]), uniform);
        PointInTimeStats sc = PointInTimeStats.Compute(c);
        Assert.Equal(drawn, c.TargetItem(o));
        Assert.True(sc.Sample(c, o)[5] > sa.Sample(a, o)[5], "earlier events of the drawn item must raise its event count");
    }
}
