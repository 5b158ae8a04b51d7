using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Training;

namespace Liber.Models.Tests;

/// <summary>The small, seeded training of the positive-control tests (one input group solves the task, the others cannot).</summary>
internal static class ControlTraining
{
    /// <summary>The small backbone every control trains (no user id, no statistics, one attention and one cross layer): each control turns on only the input it tests.</summary>
    public static BackboneOptions Small { get; } = new()
    {
        EmbeddingSize = 8, Hidden = [32], AttentionHidden = [16], LongLength = 20, SearchLength = 10, UserId = false,
        AttentionLayers = 1, CrossLayers = 1, Stats = false,
    };

    /// <summary>Trains <paramref name="backbone"/> with <paramref name="options"/> on the control world (torch seed 5, one thread).</summary>
    public static TrainResult Fit(SampleSet samples, FeatureTables tables, string backbone, BackboneOptions options, int epochs)
    {
        TorchRuntime.Configure(threads: 1, seed: 5);
        using var model = new CtrModel(tables.Map, new ModelConfig { Backbone = backbone, Options = options });
        return Trainer.Fit(model, Collator.For(model, samples, tables, null), new TrainOptions { Epochs = epochs, BatchSize = 64, LearningRate = 0.01, Seed = 5 });
    }
}
