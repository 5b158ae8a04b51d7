using System.Globalization;
using System.Text.Json;
using Liber.Cli.Commands;
using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Fusion;
using Liber.Models.Training;

namespace Liber.Cli.Experiments;

/// <summary>Runs a grid cell with the trainer: the backbone alone, or with LIBER vectors from <paramref name="liberSource"/>.</summary>
/// <param name="liberSource">Builds the LIBER vector source of a run (partitions -> interest texts -> encoder vectors).</param>
public sealed class TrainingExecutor(Func<RunSpec, TextWriter, IPartitionVectorSource> liberSource) : IRunExecutor
{
    /// <inheritdoc />
    public JsonElement Execute(Dataset dataset, RunSpec spec, TextWriter log)
    {
        var options = new RunOptions
        {
            Backbone = spec.Backbone,
            Options = spec.Training.BackboneOptions(),
            Threads = spec.Training.Threads,
            Samples = spec.Samples.Options(),
            Training = new TrainOptions
            {
                Epochs = spec.Training.Epochs,
                Patience = spec.Training.Patience,
                BatchSize = spec.Training.BatchSize,
                LearningRate = spec.Training.LearningRate,
                WeightDecay = spec.Training.WeightDecay,
                Seed = spec.Seed,
                Device = spec.Training.Device,
            },
            FusionVariant = spec.Liber is { } l ? Liber.Models.Fusion.FusionVariant.Parse(l.Fusion) : Liber.Models.Fusion.FusionVariant.Attention,
            MaxPartitions = spec.Liber?.Settings.MaxPartitions ?? 32,
            Gbdt = new Liber.Models.Gbdt.GbdtOptions { Partitions = spec.Training.GbdtPartitions ?? 0 },
        };
        TrainingRun.CheckBackbone(spec.Backbone);
        IPartitionVectorSource? source = spec.Liber is null ? null : liberSource(spec, log);
        using IDisposable? owned = source as IDisposable;
        Pipeline.AttentionProbe? attention = null;
        RunOutcome outcome = TrainingRun.Execute(
            dataset,
            options,
            source,
            e => log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {e.Epoch}: loss {e.TrainLoss:F4}, valid AUC {e.Valid.Auc:F4} logloss {e.Valid.LogLoss:F4} GAUC {e.Valid.Gauc:F4}, {e.SamplesPerSecond:N0} samples/s")),
            (model, collator) =>
            {
                if (source is Pipeline.LiberVectorSource { Partitions: { } set } && !options.FusionVariant.IsPerUser)
                {
                    attention = Pipeline.AttentionProbe.Pick(model, collator, collator.Samples, set);
                }
            });
        TrainReport report = TrainReport.Of(outcome, dataset.Kind, options) with { Attention = attention };
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test AUC {report.Test.Auc:F4} logloss {report.Test.LogLoss:F4} GAUC {report.Test.Gauc:F4} (best epoch {report.BestEpoch} of {report.Epochs})"));
        return JsonSerializer.SerializeToElement(report, TrainReport.Json);
    }
}
