using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Liber.Core.Streams;
using Liber.Models;
using Liber.Models.Features;
using Liber.Models.Fusion;
using Liber.Models.Training;
using Liber.Pipeline;

namespace Liber.Cli.Commands;

/// <summary><c>liber evaluate</c>: scores a saved checkpoint on a split of a data set.</summary>
public static class EvaluateCommand
{
    /// <summary>Creates the <c>evaluate</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("evaluate", "evaluate a saved checkpoint (liber train --checkpoint DIR) on a split; a checkpoint with LIBER fusion rebuilds its vectors with the given --policy/--backend/--encoder options (from the caches when they are given)");
        var ds = new DatasetOptions();
        ds.AddTo(cmd);
        var chain = new LiberChainOptions();
        chain.AddTo(cmd);
        var checkpoint = new Option<string>("--checkpoint") { Description = "checkpoint folder (model.bin, config.json, feature-map.json)", Required = true };
        var split = new Option<string>("--split") { Description = "train, valid or test", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("train", "valid", "test");
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { checkpoint, split, json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r =>
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            string dir = r.GetValue(checkpoint)!;
            (CtrModel model, CheckpointConfig config) = Checkpoint.Load(dir);
            using (model)
            {
                string configPath = Path.Combine(dir, Checkpoint.ConfigFile);
                CheckpointSetup? setup = config.Setup;
                if (setup is null)
                {
                    io.Error.WriteLine($"liber: note: {configPath} records no training setup (written by an older liber); the data set, policy, UIL and encoder flags are used as given");
                }

                string? kind = setup?.Dataset.Kind;
                if (kind is not null && r.GetResult(ds.Dataset) is { Implicit: false } && !string.Equals(r.GetValue(ds.Dataset), kind, StringComparison.OrdinalIgnoreCase))
                {
                    throw new UserErrorException($"--dataset {r.GetValue(ds.Dataset)} conflicts with the checkpoint's data set kind {kind} ({configPath}); drop --dataset or retrain");
                }

                ds.Validate(r, kind);
                FusionOptions? fused = config.Model.Fusion;
                if (fused is not null)
                {
                    chain.Validate(r, checkpointSetsModel: setup?.Liber is not null);
                }

                var dataset = ds.Load(r, kind);
                ChainSettings? settings = fused is null ? null
                    : setup?.Liber is { } recorded ? ChainSettings.FromCheckpoint(r, chain, recorded, configPath)
                    : ChainSettings.FromFlags(r, chain, dataset.Kind);
                var sampleOptions = new SampleOptions
                {
                    HistoryLength = model.Map.HistoryLength,
                    MinHistory = setup?.Dataset.MinHistory ?? new SampleOptions().MinHistory,
                    Threshold = setup?.Dataset.Threshold,
                };
                var samples = SampleSet.Build(UserStreams.Build(dataset), sampleOptions);
                FeatureTables tables = FeatureTables.Build(samples, model.Map.MaxPartitions);
                model.Map.RequireCompatible(tables.Map);
                PartitionVectors? vectors = null;
                using LlmBackend? backend = settings is null ? null : chain.Llm.CreateBackend(r, settings.Backend, settings.Model);
                if (fused is { } fusion)
                {
                    using LiberVectorSource source = chain.CreateSource(r, settings!, fusion.Variant, backend!, r.GetValue(json) ? io.Error : io.Output);
                    vectors = source.Build(samples);
                    if (vectors.Dimension != fusion.InputSize)
                    {
                        throw new ArgumentException($"the checkpoint's fusion expects {fusion.InputSize}-d vectors; encoder {settings!.Encoder} gives {vectors.Dimension}: use the encoder it was trained with");
                    }
                }

                using (vectors)
                {
                    var collator = Collator.For(model, samples, tables, vectors);
                    Split which = r.GetValue(split) switch { "train" => Split.Train, "valid" => Split.Valid, _ => Split.Test };
                    SplitMetrics m = Trainer.Evaluate(model, collator, samples.RangeOf(which));
                    var report = new
                    {
                        checkpoint = r.GetValue(checkpoint),
                        backbone = config.Model.Fusion is null ? config.Model.Backbone : $"{config.Model.Backbone}+liber({config.Model.Fusion.Variant})",
                        dataset = dataset.Source,
                        split = r.GetValue(split),
                        metrics = SplitReport.Of(m),
                        seconds = Math.Round(sw.Elapsed.TotalSeconds, 3),
                    };
                    if (r.GetValue(json))
                    {
                        io.Output.WriteLine(JsonSerializer.Serialize(report, DataCommand.Json));
                    }
                    else
                    {
                        io.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.backbone} on {report.split} ({m.Samples:N0} samples): AUC {m.Auc:F4}, LogLoss {m.LogLoss:F4}, GAUC {m.Gauc:F4}"));
                    }
                }
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }
}
