using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>The trainer: bit-identical one-thread runs, early stopping bookkeeping, the device option.</summary>
[Collection(TorchCollection.Name)]
public sealed class TrainerTests
{
    private static (TrainResult Result, float[] Test) Run(string backbone, long seed)
    {
        TorchRuntime.Configure(threads: 1, seed: seed);
        var config = new ModelConfig { Backbone = backbone, Options = new BackboneOptions { EmbeddingSize = 8, Hidden = [16], AttentionHidden = [8] } };
        using var model = new CtrModel(Fixture.Tables.Map, config);
        var collator = Collator.For(model, Fixture.Samples, Fixture.Tables, null);
        TrainResult r = Trainer.Fit(model, collator, new TrainOptions { Epochs = 3, BatchSize = 32, LearningRate = 0.005, Seed = seed });
        return (r, Trainer.Predict(model, collator, Fixture.Samples.RangeOf(Core.Streams.Split.Test)));
    }

    [Fact]
    public void One_thread_runs_with_the_same_seed_are_bit_identical()
    {
        (TrainResult a, float[] pa) = Run("din", 3);
        (TrainResult b, float[] pb) = Run("din", 3);
        Assert.Equal(pa, pb);
        Assert.Equal(a.History.Select(h => h.TrainLoss), b.History.Select(h => h.TrainLoss));
        Assert.Equal(a.Valid, b.Valid);
        (_, float[] pc) = Run("din", 4);
        Assert.NotEqual(pa, pc);
    }

    [Fact]
    public void Result_reports_the_best_epoch_and_its_validation_metrics()
    {
        (TrainResult r, _) = Run("deepfm", 5);
        Assert.InRange(r.Epochs, 1, 3);
        Assert.InRange(r.BestEpoch, 1, r.Epochs);
        Assert.Equal(r.History[r.BestEpoch - 1].Valid, r.Valid);
        Assert.Equal(r.History.Max(h => h.Valid.Auc), r.Valid.Auc);
        Assert.Equal(Fixture.Samples.TestCount, r.Test.Samples);
        Assert.True(r.TrainSamplesPerSecond > 0 && double.IsFinite(r.Test.LogLoss));
    }

    [Fact]
    public void Cuda_without_a_cuda_libtorch_names_the_package_to_install()
    {
        if (cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, Devices.Resolve("cuda").type);
            return;
        }

        var e = Assert.Throws<ArgumentException>(() => Devices.Resolve("cuda"));
        Assert.Contains(Devices.CudaPackage, e.Message, StringComparison.Ordinal);
        Assert.Equal("libtorch-cuda-12.8-linux-x64", Devices.CudaPackage);
        Assert.Equal(DeviceType.CPU, Devices.Resolve("cpu").type);
        Assert.Throws<ArgumentException>(() => Devices.Resolve("tpu"));
    }

    [Fact]
    public void Unknown_backbones_and_bad_options_are_refused_with_the_key()
    {
        var e = Assert.Throws<ArgumentException>(() => BackboneCatalog.Get("transformer"));
        Assert.Contains("din", e.Message, StringComparison.Ordinal);
        var o = Assert.Throws<ArgumentException>(() => new BackboneOptions { Dropout = 1.5 }.Validate());
        Assert.Contains("dropout", o.Message, StringComparison.Ordinal);
    }
}
