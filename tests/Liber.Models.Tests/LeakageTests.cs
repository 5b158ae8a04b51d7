using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Fusion;
using Liber.Models.Training;
using Xunit.Abstractions;

namespace Liber.Models.Tests;

/// <summary>
/// The leakage test the issue requires. Labels are fair coin flips, independent of users, items and time,
/// so nothing honest predicts them. Partitions hold one event each (count k=1) and each partition's summary
/// vector encodes the label of an event. If the collator ever exposed a partition containing the sample's
/// own event, the label would be read off the vector and test AUC would be near 1; it must stay near 0.5.
/// The positive control feeds, through the very same collator, vectors that encode the label of the event
/// right after the partition (a deliberate leak): the model must then find it, so the test can fail.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class LeakageTests(ITestOutputHelper log)
{
    private static readonly Lazy<(SampleSet Samples, FeatureTables Tables, PartitionSet Partitions)> World = new(() =>
    {
        Dataset source = SyntheticWorld.Generate(new SyntheticOptions { Seed = 9, Users = 60, Items = 120, MeanEvents = 60, MeanRegimeLength = 20 }).Dataset;
        var coin = new Random(123);
        var events = new EventTable(source.Events.Count);
        for (int p = 0; p < source.Events.Count; p++)
        {
            BehaviorEvent e = source.Events[p];
            events.Add(e.User, e.Item, e.Timestamp, coin.Next(2) == 0 ? 1 : 5);
        }

        var dataset = new Dataset("leak-test", "coin flips", source.Users, source.Items, events, source.Catalog, source.CatalogItems, source.Profiles, RatingScale.FiveStars, new LoadReport());
        SampleSet samples = SampleSet.Build(UserStreams.Build(dataset), new SampleOptions { HistoryLength = 5 });
        FeatureTables tables = FeatureTables.Build(samples, maxPartitions: 4);
        var features = ItemFeatures.Build(dataset, new OneToken());
        return (samples, tables, PartitionSet.Build(samples.Streams, new CountPolicy(1), new PartitionCaps(), features));
    });

    /// <summary>Vectors [label ; 1 - label ; 0 ...] of the event at End + offset (offset 0: the partition's own event).</summary>
    private static PartitionVectors LabelVectors(int offset)
    {
        (SampleSet samples, _, PartitionSet set) = World.Value;
        const int d = 4;
        var v = new float[set.Count * d];
        for (int r = 0; r < set.Count; r++)
        {
            Partition p = set.All[r];
            int index = p.End + offset;
            if (index < samples.Streams.Length(p.User))
            {
                float label = samples.Streams.Ratings[samples.Streams.Row(p.User, index)] >= samples.Threshold ? 1 : 0;
                v[r * d] = label;
                v[(r * d) + 1] = 1 - label;
            }
        }

        return PartitionVectors.FromPartitions(set, v, v, d);
    }

    private static TrainResult Train(PartitionVectors vectors)
    {
        (SampleSet samples, FeatureTables tables, _) = World.Value;
        TorchRuntime.Configure(threads: 1, seed: 21);
        var config = new ModelConfig
        {
            Backbone = "din",
            Options = new BackboneOptions { EmbeddingSize = 4, Hidden = [16], AttentionHidden = [8] },
            Fusion = new FusionOptions { InputSize = 4, HiddenSize = 8, OutputSize = 8, MaxPartitions = 4 },
        };
        using var model = new CtrModel(tables.Map, config);
        return Trainer.Fit(model, Collator.For(model, samples, tables, vectors), new TrainOptions { Epochs = 4, BatchSize = 64, LearningRate = 0.01, Seed = 21 });
    }

    [Fact]
    public void Own_event_labels_in_partition_vectors_are_not_exploitable()
    {
        using var own = LabelVectors(offset: 0);
        TrainResult r = Train(own);
        log.WriteLine($"own-event labels: test AUC {r.Test.Auc:F4} over {r.Test.Samples} samples, valid AUC {r.Valid.Auc:F4}");
        Assert.True(r.Test.Samples > 300, $"{r.Test.Samples} test samples");
        Assert.InRange(r.Test.Auc, 0.4, 0.6);
    }

    [Fact]
    public void Positive_control_a_deliberate_leak_is_exploited()
    {
        using var next = LabelVectors(offset: 1);
        TrainResult r = Train(next);
        log.WriteLine($"deliberate leak: test AUC {r.Test.Auc:F4} over {r.Test.Samples} samples");
        Assert.True(r.Test.Auc > 0.9, $"leak not picked up: test AUC {r.Test.Auc}");
    }

    private sealed class OneToken : ITokenCounter
    {
        public string Name => "one";

        public int Count(string text) => 1;
    }
}
