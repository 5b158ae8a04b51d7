using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Fusion;
using Liber.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>Every registered backbone, with and without LIBER: output shape, loss decreases, save/load round trip (DeepCTR's check_model).</summary>
[Collection(TorchCollection.Name)]
public sealed class CatalogTheoryTests
{
    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in BackboneCatalog.Names)
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    private static (CtrModel Model, Collator Collator, PartitionVectors? Vectors) Build(string backbone, bool liber)
    {
        TorchRuntime.Configure(threads: 1, seed: 17);
        var config = new ModelConfig
        {
            Backbone = backbone,
            Options = new BackboneOptions { EmbeddingSize = 8, Hidden = [32, 16], AttentionHidden = [16], LongLength = 30, SearchLength = 10 },
            Fusion = liber ? new FusionOptions { InputSize = Fixture.Dimension, HiddenSize = 8, OutputSize = 8, MaxPartitions = Fixture.Tables.Map.MaxPartitions } : null,
        };
        var model = new CtrModel(Fixture.Tables.Map, config);
        PartitionVectors? vectors = liber ? Fixture.RandomVectors() : null;
        return (model, Collator.For(model, Fixture.Samples, Fixture.Tables, vectors), vectors);
    }

    private static int Some => Fixture.Samples.Count - 3;

    private static int[] Ordinals(int count) => Enumerable.Range(0, count).Select(i => i * 7 % Fixture.Samples.TrainCount).ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Output_is_one_finite_logit_per_sample(string backbone, bool liber)
    {
        (CtrModel model, Collator collator, PartitionVectors? vectors) = Build(backbone, liber);
        using var m = model;
        using var v = vectors;
        using var scope = NewDisposeScope();
        CtrBatch batch = collator.Build(Ordinals(37));
        Tensor logits = model.call(batch);
        Assert.Equal(new long[] { 37 }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
        Assert.Equal(liber, batch.Liber is not null);
        Assert.Equal(backbone is "din-long" or "sim", batch.LongHistory is not null);
        if (liber)
        {
            float[] w = model.FusionWeights(collator, Some)!;
            Assert.Equal(Math.Min(Fixture.Tables.Map.MaxPartitions, Fixture.Partitions.VisibleCount(Fixture.Samples[Some].User, Fixture.Samples[Some].Index)), w.Length);
            Approx.Equal(w.Length == 0 ? 0f : 1f, w.Sum());
        }
        else
        {
            Assert.Null(model.FusionWeights(collator, Some));
        }

        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains(names, n => n.StartsWith("_backbone.", StringComparison.Ordinal));
        Assert.Equal(liber, names.Any(n => n.StartsWith("_fusion.", StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loss_decreases_over_a_few_steps(string backbone, bool liber)
    {
        (CtrModel model, Collator collator, PartitionVectors? vectors) = Build(backbone, liber);
        using var m = model;
        using var v = vectors;
        using var optimizer = optim.AdamW(model.parameters(), lr: 0.01);
        int[] ordinals = Ordinals(64);
        var losses = new List<float>();
        model.train();
        for (int step = 0; step < 12; step++)
        {
            using var scope = NewDisposeScope();
            CtrBatch batch = collator.Build(ordinals);
            optimizer.zero_grad();
            ModelOutput output = model.Run(batch);
            Tensor loss = nn.functional.binary_cross_entropy_with_logits(output.Logits, batch.Labels);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        Assert.True(losses[^1] < losses[0] * 0.9f, $"{backbone} liber={liber}: loss {losses[0]} -> {losses[^1]}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Save_and_load_give_identical_predictions(string backbone, bool liber)
    {
        (CtrModel model, Collator collator, PartitionVectors? vectors) = Build(backbone, liber);
        using var m = model;
        using var v = vectors;
        string dir = Fixture.TempDir();
        try
        {
            // A few steps first, so the weights differ from a fresh initialisation.
            using (var optimizer = optim.AdamW(model.parameters(), lr: 0.01))
            {
                using var scope = NewDisposeScope();
                CtrBatch b = collator.Build(Ordinals(32));
                optimizer.zero_grad();
                nn.functional.binary_cross_entropy_with_logits(model.Run(b).Logits, b.Labels).backward();
                optimizer.step();
            }

            Checkpoint.Save(dir, model);
            float[] before = Trainer.Predict(model, collator, 0..50);
            TorchRuntime.Configure(threads: 1, seed: 999); // a different init, overwritten by the load
            (CtrModel loaded, CheckpointConfig config) = Checkpoint.Load(dir);
            using var l = loaded;
            Assert.Equal(model.Config.Backbone, config.Model.Backbone);
            Assert.Equal(model.Config.Fusion, config.Model.Fusion);
            float[] after = Trainer.Predict(loaded, Collator.For(loaded, Fixture.Samples, Fixture.Tables, vectors), 0..50);
            Assert.Equal(before, after);
            Assert.Contains(before, p => Math.Abs(p - before[0]) > 1e-6f);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
