using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Training;
using Xunit.Abstractions;

namespace Liber.Models.Tests;

/// <summary>
/// The point-in-time statistics as the backbones' numeric group (issue 16): the batch writer's columns are exactly
/// <see cref="PointInTimeStats"/>'s rows (so its brute-force and leakage guarantees carry over), and a positive control
/// where only the statistics predict the label.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class StatsTests(ITestOutputHelper log)
{
    /// <summary>
    /// A generated world where every item is good (liked with probability 0.9) or bad (0.1) for everyone, and items are
    /// short-lived: each step brings new items, each lives 4 steps. The label is therefore predicted by the item's earlier
    /// positive rate over all users (a statistic; with the labels' 0.9 / 0.1 noise the best possible AUC is about 0.9), while item ids are new in the later (test) steps, user ids are off,
    /// categories are uninformative and the user's own history says nothing about the target.
    /// </summary>
    private static readonly Lazy<(SampleSet Samples, FeatureTables Tables)> World = new(() =>
    {
        const int users = 120, steps = 40, perStep = 5, life = 4;
        var random = new Random(17);
        var userIds = new IdMap();
        var itemIds = new IdMap();
        var catalog = new List<Item>();
        int itemCount = (steps + life) * perStep;
        var good = new bool[itemCount];
        for (int i = 0; i < itemCount; i++)
        {
            int id = itemIds.GetOrAdd(i + 1);
            catalog.Add(new Item(id, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), $"item {i}", null, [$"c{i % 3}"], [], null));
            good[i] = random.Next(2) == 0;
        }

        for (int u = 0; u < users; u++)
        {
            userIds.GetOrAdd(u + 1);
        }

        var events = new EventTable(users * steps);
        for (int step = 0; step < steps; step++)
        {
            for (int u = 0; u < users; u++)
            {
                // Items of generations step .. step + life - 1 are alive at this step.
                int item = ((step + random.Next(life)) * perStep) + random.Next(perStep);
                bool liked = random.NextDouble() < (good[item] ? 0.9 : 0.1);
                events.Add(u, item, 1_000_000 + ((long)step * users) + u, liked ? 5 : 1);
            }
        }

        var dataset = new Dataset("stats-control", "generated", userIds, itemIds, events, catalog, catalog.Count, new UserProfile?[users], RatingScale.FiveStars, new LoadReport());
        SampleSet samples = SampleSet.Build(UserStreams.Build(dataset), new SampleOptions { HistoryLength = 10 });
        return (samples, FeatureTables.Build(samples, maxPartitions: 4));
    });

    public static TheoryData<string> Backbones() => [.. BackboneCatalog.Names];

    private static TrainResult Train(string backbone, bool stats)
    {
        (SampleSet samples, FeatureTables tables) = World.Value;
        return ControlTraining.Fit(samples, tables, backbone, ControlTraining.Small with { Stats = stats }, epochs: 5);
    }

    /// <summary>Measured (seed 5): on 0.81-0.85 test AUC, off 0.48-0.60, for every backbone.</summary>
    [Theory]
    [MemberData(nameof(Backbones))]
    public void Only_the_statistics_predict_the_label_and_every_backbone_reads_them(string backbone)
    {
        TrainResult with = Train(backbone, stats: true);
        TrainResult without = Train(backbone, stats: false);
        log.WriteLine($"{backbone}: stats on test AUC {with.Test.Auc:F4} (valid {with.Valid.Auc:F4}), off {without.Test.Auc:F4} (valid {without.Valid.Auc:F4}), {with.Test.Samples} test samples");
        Assert.True(with.Test.Samples > 200, $"{with.Test.Samples} test samples");
        Assert.True(with.Test.Auc > 0.75, $"{backbone} did not learn the label from the statistics: test AUC {with.Test.Auc:F4}");
        Assert.True(with.Test.Auc > without.Test.Auc + 0.15, $"{backbone}: stats on {with.Test.Auc:F4} vs off {without.Test.Auc:F4}");
    }

    [Fact]
    public void Item_scope_reads_the_items_statistics_and_never_the_users()
    {
        // The control's label is the item's earlier positive rate: with the item's columns only, DIN still learns it.
        (SampleSet samples, FeatureTables tables) = World.Value;
        TrainResult item = ControlTraining.Fit(samples, tables, "din", ControlTraining.Small with { Stats = true, StatsScope = StatsScope.Item }, epochs: 5);
        log.WriteLine($"din, stats_scope item: test AUC {item.Test.Auc:F4}");
        Assert.True(item.Test.Auc > 0.75, $"item scope did not learn the item's statistics: test AUC {item.Test.Auc:F4}");

        // The user's five columns never reach the model: changing them leaves every logit as it was; the item's do not.
        TorchRuntime.Configure(threads: 1, seed: 3);
        using var model = new CtrModel(tables.Map, new ModelConfig { Backbone = "din", Options = ControlTraining.Small with { Stats = true, StatsScope = StatsScope.Item } });
        model.eval();
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var grad = TorchSharp.torch.no_grad();
        using CtrBatch batch = new Collator(samples, tables, stats: true).Build([.. Enumerable.Range(0, 64)]);
        float[] baseline = model.call(batch).data<float>().ToArray();
        int[] user = [.. Enumerable.Range(0, PointInTimeStats.Width).Where(k => !PointInTimeStats.Names[k].StartsWith("item_", StringComparison.Ordinal))];
        Assert.Equal([0, 1, 2, 3, 4], user);
        foreach (int k in Enumerable.Range(0, PointInTimeStats.Width))
        {
            using var original = batch.Stats![.., k].clone();
            batch.Stats[.., k].add_(0.7);
            float[] moved = model.call(batch).data<float>().ToArray();
            batch.Stats[.., k].copy_(original);
            if (user.Contains(k))
            {
                Assert.Equal(baseline, moved);
            }
            else
            {
                Assert.NotEqual(baseline, moved);
            }
        }

        var e = Assert.Throws<ArgumentException>(() => (ControlTraining.Small with { StatsScope = (StatsScope)7 }).Validate());
        Assert.Contains("stats_scope", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_writer_s_columns_are_the_point_in_time_statistics_of_each_sample()
    {
        SampleSet samples = Fixture.Samples;
        PointInTimeStats expected = PointInTimeStats.Compute(samples.Streams, samples.Threshold);
        var collator = new Collator(samples, Fixture.Tables, stats: true);
        int[] ordinals = [.. Enumerable.Range(0, samples.Count).Where(i => i % 7 == 3).Take(200)];
        using CtrBatch batch = collator.Build(ordinals);
        Assert.NotNull(batch.Stats);
        Assert.Equal([ordinals.Length, PointInTimeStats.Width], batch.Stats!.shape);
        float[] got = batch.Stats.data<float>().ToArray();
        for (int s = 0; s < ordinals.Length; s++)
        {
            ReadOnlySpan<float> row = expected.Row(samples[ordinals[s]].Row);
            for (int k = 0; k < PointInTimeStats.Width; k++)
            {
                Assert.Equal(row[k], got[(s * PointInTimeStats.Width) + k]);
            }
        }

        // Off: no group at all (today's batches).
        using CtrBatch off = new Collator(samples, Fixture.Tables).Build(ordinals);
        Assert.Null(off.Stats);
    }

    [Fact]
    public void A_sample_s_columns_do_not_change_when_events_at_or_after_its_time_change()
    {
        (SampleSet samples, _) = World.Value;
        UserStreams streams = samples.Streams;
        int ordinal = samples.Count / 2;
        (_, _, int row) = samples[ordinal];
        long t = streams.Timestamps[row];

        // The same world with every event at or after t re-rated (flipped): the sample's statistics must stay the same.
        Dataset d = streams.Dataset;
        var events = new EventTable(d.Events.Count);
        for (int e = 0; e < d.Events.Count; e++)
        {
            float rating = d.Events.Ratings[e];
            events.Add(d.Events.Users[e], d.Events.Items[e], d.Events.Timestamps[e], d.Events.Timestamps[e] >= t ? 6 - rating : rating);
        }

        var changed = new Dataset(d.Kind, d.Source, d.Users, d.Items, events, d.Catalog, d.CatalogItems, d.Profiles, d.Scale, new LoadReport());
        SampleSet other = SampleSet.Build(UserStreams.Build(changed), new SampleOptions { HistoryLength = 10 });
        Assert.Equal(samples[ordinal], other[ordinal]);
        using CtrBatch a = new Collator(samples, FeatureTables.Build(samples, 4), stats: true).Build([ordinal]);
        using CtrBatch b = new Collator(other, FeatureTables.Build(other, 4), stats: true).Build([ordinal]);
        Assert.Equal(a.Stats!.data<float>().ToArray(), b.Stats!.data<float>().ToArray());
    }
}
