using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
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
}
