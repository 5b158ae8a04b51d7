using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Core.Synthetic;

namespace Liber.Core.Tests.Streams;

public sealed class PointInTimeStatsTests
{
    private const float Threshold = 4;

    /// <summary>A synthetic world with timestamps cut to the hour (many events of different users share a second) and ratings 1-5.</summary>
    private static Dataset World(Func<BehaviorEvent, float>? rating = null)
    {
        Dataset source = SyntheticWorld.Generate(new SyntheticOptions { Seed = 5, Users = 40, Items = 80, MeanEvents = 50 }).Dataset;
        var events = new EventTable(source.Events.Count);
        for (int p = 0; p < source.Events.Count; p++)
        {
            BehaviorEvent e = source.Events[p];
            var coarse = e with { Timestamp = e.Timestamp / 3600 * 3600 };
            events.Add(e.User, e.Item, coarse.Timestamp, rating?.Invoke(coarse) ?? 1 + ((e.Item * 7 + e.User * 3 + p) % 5));
        }

        return new Dataset("stats-test", "synthetic", source.Users, source.Items, events, source.Catalog, source.CatalogItems, source.Profiles, RatingScale.FiveStars, new LoadReport());
    }

    [Fact]
    public void Every_column_equals_a_brute_force_recomputation()
    {
        UserStreams s = UserStreams.Build(World());
        var options = new StatsOptions();
        PointInTimeStats stats = PointInTimeStats.Compute(s, Threshold, options);
        Assert.Equal(s.EventCount, stats.Rows);
        var random = new Random(17);
        int ties = 0;
        for (int draw = 0; draw < 300; draw++)
        {
            int row = random.Next(s.EventCount);
            int user = s.UserOfRow(row), index = row - s.Offsets[user];
            long t = s.Timestamps[row];
            int item = s.Items[row];
            IReadOnlyList<string> targetCategories = s.Dataset.Catalog[item].Categories;

            // Global and item values: every user's events strictly before t.
            double gN = 0, gPos = 0, gSum = 0, iN = 0, iPos = 0, iSum = 0;
            for (int r = 0; r < s.EventCount; r++)
            {
                if (s.Timestamps[r] >= t)
                {
                    ties += s.Timestamps[r] == t && s.UserOfRow(r) != user ? 1 : 0;
                    continue;
                }

                double rating = s.Ratings[r];
                gN++;
                gPos += rating >= Threshold ? 1 : 0;
                gSum += rating;
                if (s.Items[r] == item)
                {
                    iN++;
                    iPos += rating >= Threshold ? 1 : 0;
                    iSum += rating;
                }
            }

            double gRate = gN > 0 ? gPos / gN : 0.5, gMean = gN > 0 ? gSum / gN : 3;

            // User values: the user's events with a smaller index (same second included).
            double uN = 0, uPos = 0, uSum = 0, cN = 0, cPos = 0;
            for (int k = 0; k < index; k++)
            {
                int r = s.Row(user, k);
                double rating = s.Ratings[r];
                uN++;
                uPos += rating >= Threshold ? 1 : 0;
                uSum += rating;
                int shared = s.Dataset.Catalog[s.Items[r]].Categories.Distinct().Count(c => targetCategories.Contains(c));
                cN += shared;
                cPos += rating >= Threshold ? shared : 0;
            }

            double userRate = (uPos + options.UserPrior * gRate) / (uN + options.UserPrior);
            double[] expected =
            [
                Math.Log(1 + uN) / 10,
                userRate,
                ((uSum + options.UserPrior * gMean) / (uN + options.UserPrior) - 1) / 4,
                Math.Log(1 + cN) / 10,
                (cPos + options.CategoryPrior * userRate) / (cN + options.CategoryPrior),
                Math.Log(1 + iN) / 10,
                (iPos + options.ItemPrior * gRate) / (iN + options.ItemPrior),
                ((iSum + options.ItemPrior * gMean) / (iN + options.ItemPrior) - 1) / 4,
            ];
            ReadOnlySpan<float> got = stats.Row(row);
            for (int c = 0; c < PointInTimeStats.Width; c++)
            {
                Approx.Equal(expected[c], got[c], rel: 1e-4, abs: 1e-5, what: $"row {row} (user {user}, index {index}) {PointInTimeStats.Names[c]}");
            }
        }

        Assert.True(ties > 0, "the fixture must have events of other users in the same second");
    }

    [Fact]
    public void Changing_events_at_or_after_the_sample_changes_none_of_its_features()
    {
        UserStreams baseline = UserStreams.Build(World());
        PointInTimeStats before = PointInTimeStats.Compute(baseline, Threshold);
        var random = new Random(3);
        for (int draw = 0; draw < 20; draw++)
        {
            int row = random.Next(baseline.EventCount);
            int user = baseline.UserOfRow(row);
            long t = baseline.Timestamps[row];
            int position = baseline.Positions[row];

            // Flip every rating at or after t, except the user's own events before the sample (same second, smaller index).
            float Mutate(BehaviorEvent e) => e.Timestamp >= t && !(e.User == user && e.Position < position && e.Timestamp == t)
                ? (e.Position % 2 == 0 ? 5 : 1)
                : 1 + ((e.Item * 7 + e.User * 3 + e.Position) % 5);
            UserStreams changed = UserStreams.Build(World(Mutate));
            Assert.Equal(baseline.Items[row], changed.Items[row]);
            Approx.Equal(before.Row(row), PointInTimeStats.Compute(changed, Threshold).Row(row), what: $"row {row}");
        }
    }

    [Fact]
    public void Changing_an_earlier_event_changes_the_features()
    {
        UserStreams baseline = UserStreams.Build(World());
        int user = 0, index = baseline.Length(0) - 1, row = baseline.Row(user, index);
        PointInTimeStats before = PointInTimeStats.Compute(baseline, Threshold);
        int firstPosition = baseline.Positions[baseline.Row(user, 0)];
        UserStreams changed = UserStreams.Build(World(e => e.Position == firstPosition ? (baseline.Ratings[baseline.Row(user, 0)] >= Threshold ? 1 : 5) : 1 + ((e.Item * 7 + e.User * 3 + e.Position) % 5)));
        float[] after = PointInTimeStats.Compute(changed, Threshold).Row(row).ToArray();
        Assert.False(Approx.Close(before.Row(row)[1], after[1]), "the user's positive rate must move when an earlier rating flips");
    }

    [Fact]
    public void A_first_event_sees_only_priors()
    {
        UserStreams s = UserStreams.Build(World());
        PointInTimeStats stats = PointInTimeStats.Compute(s, Threshold);
        int first = 0;
        for (int r = 1; r < s.EventCount; r++)
        {
            first = s.Timestamps[r] < s.Timestamps[first] ? r : first;
        }

        // The earliest second: no earlier event anywhere; the global priors are 0.5 and the scale's middle.
        Approx.Equal(new float[] { 0, 0.5f, 0.5f, 0, 0.5f, 0, 0.5f, 0.5f }, stats.Row(first));
        Assert.Throws<ArgumentException>(() => PointInTimeStats.Compute(s, Threshold, new StatsOptions { ItemPrior = 0 }));
    }
}
