using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Gbdt;
using Liber.Models.Training;

namespace Liber.Models.Tests;

public sealed class GbdtTests
{
    private static SampleSet Samples(Func<BehaviorEvent, float>? rating = null)
    {
        Dataset source = SyntheticWorld.Generate(new SyntheticOptions { Seed = 4, Users = 80, Items = 150, MeanEvents = 60 }).Dataset;
        if (rating is null)
        {
            return SampleSet.Build(UserStreams.Build(source));
        }

        var events = new EventTable(source.Events.Count);
        for (int p = 0; p < source.Events.Count; p++)
        {
            BehaviorEvent e = source.Events[p];
            events.Add(e.User, e.Item, e.Timestamp, rating(e));
        }

        return SampleSet.Build(UserStreams.Build(new Dataset("gbdt-test", "synthetic", source.Users, source.Items, events, source.Catalog, source.CatalogItems, source.Profiles, RatingScale.FiveStars, new LoadReport())));
    }

    private static (GbdtPeer, TrainResult) Fit(SampleSet samples, GbdtOptions? options = null)
    {
        var features = new GbdtFeatures(samples, PointInTimeStats.Compute(samples.Streams, samples.Threshold), FeatureTables.Build(samples));
        return GbdtPeer.Fit(samples, features, options ?? new GbdtOptions { MinLeaf = 20, EarlyStopping = 20 });
    }

    [Fact]
    public void Learns_a_label_that_only_the_items_past_ratings_predict()
    {
        // Odd items are liked by everyone, even ones by no one: only the item's earlier ratings (a statistic) tell.
        SampleSet samples = Samples(e => e.Item % 2 == 1 ? 5 : 1);
        (GbdtPeer model, TrainResult r) = Fit(samples);
        using (model)
        {
            Assert.True(r.Test.Auc > 0.95, $"test AUC {r.Test.Auc}");
            Assert.Equal(samples.TestCount, r.Test.Samples);
            Assert.InRange(model.Trees, 1, 2000);
        }
    }

    [Fact]
    public void Noise_labels_give_chance_auc_and_two_runs_with_one_seed_agree()
    {
        var coin = new Random(8);
        var labels = new Dictionary<(int, int, long), float>();
        SampleSet samples = Samples(e => labels.TryGetValue((e.User, e.Item, e.Timestamp), out float v) ? v : labels[(e.User, e.Item, e.Timestamp)] = coin.Next(2) == 0 ? 1 : 5);
        (GbdtPeer a, TrainResult ra) = Fit(samples);
        (GbdtPeer b, TrainResult rb) = Fit(samples);
        using (a)
        using (b)
        {
            Assert.InRange(ra.Test.Auc, 0.4, 0.6);
            Approx.Equal(a.Predict(samples, samples.RangeOf(Split.Test)), b.Predict(samples, samples.RangeOf(Split.Test)));
            Assert.Equal(ra.Test.Auc, rb.Test.Auc);
        }
    }

    [Fact]
    public void Metrics_are_the_projects_own_over_the_predictions()
    {
        SampleSet samples = Samples();
        (GbdtPeer model, TrainResult r) = Fit(samples);
        using (model)
        {
            Range test = samples.RangeOf(Split.Test);
            float[] p = model.Predict(samples, test);
            (int offset, int count) = test.GetOffsetAndLength(samples.Count);
            float[] y = [.. Enumerable.Range(offset, count).Select(k => (float)samples.Label(k))];
            Approx.Equal(Metrics.Auc(p, y), r.Test.Auc);
            Assert.All(p, v => Assert.InRange(v, 0f, 1f));
            string dir = Directory.CreateTempSubdirectory("liber-gbdt-").FullName;
            try
            {
                model.Save(dir);
                Assert.True(new FileInfo(Path.Combine(dir, GbdtPeer.ModelFile)).Length > 0);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void Feature_rows_name_every_column_and_options_name_the_bad_value()
    {
        SampleSet samples = Samples();
        var features = new GbdtFeatures(samples, PointInTimeStats.Compute(samples.Streams, samples.Threshold), FeatureTables.Build(samples));
        Assert.Equal(features.Names.Count, features.Width);
        Assert.Equal(features.Width, features.Names.Distinct().Count());
        var row = new float[features.Width];
        features.Write(0, row);
        Assert.All(row, v => Assert.True(float.IsFinite(v)));
        Assert.Contains("leaves = 1", Assert.Throws<ArgumentException>(() => new GbdtOptions { Leaves = 1 }.Validate()).Message, StringComparison.Ordinal);
    }

    // One user's stream of (category, rating) events, one second apart, as a sample set with threshold 4.
    private static SampleSet Stream(params (string Category, float Rating)[] stream)
    {
        var userIds = new IdMap();
        userIds.GetOrAdd(1);
        var itemIds = new IdMap();
        var catalog = new List<Item>();
        var events = new EventTable(stream.Length);
        for (int i = 0; i < stream.Length; i++)
        {
            int id = itemIds.GetOrAdd(i + 1);
            catalog.Add(new Item(id, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), $"item {i}", null, [stream[i].Category], [], null));
            events.Add(0, id, 1_000 + i, stream[i].Rating);
        }

        var dataset = new Dataset("gbdt-partitions", "generated", userIds, itemIds, events, catalog, catalog.Count, new UserProfile?[1], RatingScale.FiveStars, new LoadReport());
        return SampleSet.Build(UserStreams.Build(dataset), new SampleOptions { HistoryLength = 2, MinHistory = 5, Threshold = 4 });
    }

    [Fact]
    public void Statistics_columns_follow_the_backbone_options()
    {
        SampleSet samples = Samples();
        PointInTimeStats stats = PointInTimeStats.Compute(samples.Streams, samples.Threshold);
        FeatureTables tables = FeatureTables.Build(samples);
        var all = new GbdtFeatures(samples, stats, tables);
        var item = new GbdtFeatures(samples, stats, tables, new BackboneOptions { StatsScope = StatsScope.Item });
        var none = new GbdtFeatures(samples, stats, tables, new BackboneOptions { Stats = false });
        Assert.Equal(PointInTimeStats.Names, all.Names.Take(PointInTimeStats.Width));
        Assert.Equal(["item_events", "item_positive_rate", "item_mean_rating"], item.Names.Take(3));
        Assert.DoesNotContain(item.Names, n => n.StartsWith("user_", StringComparison.Ordinal));
        Assert.Equal(all.Width - 5, item.Width);
        Assert.Equal(all.Width - PointInTimeStats.Width, none.Width);
        Assert.Equal(GbdtFeatures.ShortTermNames[0], none.Names[0]);

        // The kept columns carry the same values as the full row.
        int ordinal = samples.Count - 1;
        float[] full = new float[all.Width], items = new float[item.Width], bare = new float[none.Width];
        all.Write(ordinal, full);
        item.Write(ordinal, items);
        none.Write(ordinal, bare);
        Assert.Equal(full[5..8], items[..3]);
        Assert.Equal(full[PointInTimeStats.Width..], items[3..]);
        Assert.Equal(full[PointInTimeStats.Width..], bare);
    }

    [Fact]
    public void Partition_columns_read_the_closed_partitions_only()
    {
        // K = 2: the sample at index 5 sees the closed partitions [0, 1] and [2, 3]; event 4 is in the open cache.
        SampleSet samples = Stream(("a", 5), ("b", 1), ("a", 5), ("a", 5), ("b", 5), ("a", 1), ("b", 1));
        var features = new GbdtFeatures(samples, PointInTimeStats.Compute(samples.Streams, samples.Threshold), FeatureTables.Build(samples), new BackboneOptions { Stats = false }, partitionSize: 2);
        Assert.Equal(GbdtFeatures.PartitionNames, features.Names.Skip(GbdtFeatures.ShortTermNames.Count).Take(GbdtFeatures.PartitionNames.Count));
        int ordinal = Enumerable.Range(0, samples.Count).Single(o => samples[o].Index == 5);
        var row = new float[features.Width];
        features.Write(ordinal, row);
        float Column(string name) => row[features.Names.ToList().IndexOf(name)];

        // Closed: a5 b1 | a5 a5 -> 3 of 4 liked, mean rating 4 of 5; the target's category a: 3 events, all liked.
        Approx.Equal(MathF.Log(3) / 5, Column("partitions"));
        Approx.Equal(0.75f, Column("partitions_positive_rate"));
        Approx.Equal(0.8f, Column("partitions_mean_rating"));
        Approx.Equal(0.75f, Column("partitions_category_share"));
        Approx.Equal((3 + (5 * 0.75f)) / (3 + 5), Column("partitions_category_rate"));      // smoothed toward 0.75 by 5 events
        Approx.Equal((2.5f + (5 * 0.75f)) / (2.5f + 5), Column("recency_category_rate"));  // weights 1/2 and 1: 2.5 of 2.5 liked
        Approx.Equal(1f, Column("last_partition_positive_rate"));
        Approx.Equal(1f, Column("last_partition_category_rate"));                          // (2 + 5 * 1) / (2 + 5)
        Approx.Equal(0.25f, Column("positive_trend"));
        Approx.Equal(1 - ((3 + (5 * 0.75f)) / 8), Column("category_trend"));

        // At index 6 the third partition (events 4 and 5: b5 a1) has closed.
        int next = Enumerable.Range(0, samples.Count).Single(o => samples[o].Index == 6);
        features.Write(next, row);
        Approx.Equal(MathF.Log(4) / 5, Column("partitions"));
        Approx.Equal(0.5f, Column("last_partition_positive_rate"));
        Assert.Contains("partitions = -1", Assert.Throws<ArgumentException>(() => new GbdtOptions { Partitions = -1 }.Validate()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Partition_columns_learn_a_trait_that_only_the_long_history_shows()
    {
        // Each user loves one of the categories a and b and dislikes the other; the short-term window (L = 2) holds only
        // coin-rated c events before every a/b target, and the statistics are off: only the closed partitions tell.
        const int users = 240, length = 70;
        var random = new Random(21);
        var userIds = new IdMap();
        var itemIds = new IdMap();
        var catalog = new List<Item>();
        string[] names = ["a", "b", "c"];
        for (int i = 0; i < 30; i++)
        {
            int id = itemIds.GetOrAdd(i + 1);
            catalog.Add(new Item(id, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), $"item {i}", null, [names[i % 3]], [], null));
        }

        var traits = new int[users];
        for (int u = 0; u < users; u++)
        {
            userIds.GetOrAdd(u + 1);
            traits[u] = random.Next(2);
        }

        var events = new EventTable(users * length);
        for (int step = 0; step < length; step++)
        {
            for (int u = 0; u < users; u++)
            {
                int category = step < 10 ? step % 2 : step % 3 == 2 ? random.Next(2) : 2;
                int item = (random.Next(10) * 3) + category;
                float rating = category == 2 ? (random.Next(2) == 0 ? 5 : 1) : category == traits[u] ? 5 : 1;
                events.Add(u, item, 1_000_000 + ((long)step * users) + u, rating);
            }
        }

        var dataset = new Dataset("gbdt-trait", "generated", userIds, itemIds, events, catalog, catalog.Count, new UserProfile?[users], RatingScale.FiveStars, new LoadReport());
        SampleSet samples = SampleSet.Build(UserStreams.Build(dataset), new SampleOptions { HistoryLength = 2, Threshold = 4 });
        PointInTimeStats stats = PointInTimeStats.Compute(samples.Streams, samples.Threshold);
        FeatureTables tables = FeatureTables.Build(samples);
        double TargetAuc(int partitions)
        {
            var features = new GbdtFeatures(samples, stats, tables, new BackboneOptions { Stats = false }, partitions);
            (GbdtPeer model, _) = GbdtPeer.Fit(samples, features, new GbdtOptions { MinLeaf = 20, EarlyStopping = 20 });
            using (model)
            {
                Range test = samples.RangeOf(Split.Test);
                float[] p = model.Predict(samples, test);
                (int offset, int count) = test.GetOffsetAndLength(samples.Count);
                int[] targets = [.. Enumerable.Range(0, count).Where(k => samples.TargetItem(offset + k) % 3 != 2)];
                return Metrics.Auc([.. targets.Select(k => p[k])], [.. targets.Select(k => (float)samples.Label(offset + k))]);
            }
        }

        double without = TargetAuc(0), with = TargetAuc(5);
        Assert.True(with > 0.95, $"with partitions: AUC {with:F4} on the a/b targets");
        Assert.True(without < 0.65, $"without partitions: AUC {without:F4} on the a/b targets");
    }
}
