using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Liber.Core.Streams;
using Liber.Models;
using Liber.Models.Backbones;
using Liber.Models.Fusion;
using Liber.Models.Training;
using Liber.Pipeline;

namespace Liber.Cli.Commands;

/// <summary>
/// <c>liber train</c>: trains and evaluates one backbone (valid for early stopping, test read once).
/// With <c>--liber</c> it runs the whole chain first through <see cref="LiberVectorSource"/>: UBSP partitions
/// (policy options), UIL texts (backend options, answer cache), encoder vectors (embedding cache).
/// </summary>
public static class TrainCommand
{
    /// <summary>Creates the <c>train</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("train", "train and evaluate a CTR backbone (AdamW, early stopping on validation AUC, test read once)");
        var ds = new DatasetOptions();
        ds.AddTo(cmd);
        var chain = new LiberChainOptions();
        chain.AddTo(cmd);
        var backbone = new Option<string>("--backbone", "-b") { Description = "backbone: " + string.Join(", ", BackboneCatalog.All.Select(b => $"{b.Name} ({b.Description})")) + ", gbdt (the gradient-boosted-trees peer: LightGBM over point-in-time statistics, short-term statistics and categorical fields; no LIBER, no checkpoint)", Required = true };
        backbone.AcceptOnlyFromAmong([.. TrainingRun.Backbones]);
        var training = new TrainingFlags();
        training.AddTo(cmd);
        var negatives = new NegativeFlags();
        negatives.AddTo(cmd);
        var historyLength = new Option<int>("--history-length") { Description = "L: short-term history length", DefaultValueFactory = _ => 20 };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "folder for the trained model (state dict, config.json, feature-map.json)" };
        var liber = new Option<bool>("--liber") { Description = "add LIBER's fused interest vector: partitions (--policy ...) -> interest texts (--backend ...) -> encoder vectors (--encoder)" };
        var maxPartitions = new Option<int>("--max-partitions") { Description = "P: visible partitions per sample (the most recent with end < index)", DefaultValueFactory = _ => 32 };
        var fusion = new Option<string>("--fusion") { Description = "UIF variant: " + string.Join(", ", FusionVariant.Names), DefaultValueFactory = _ => FusionVariant.Attention.Name };
        fusion.AcceptOnlyFromAmong([.. FusionVariant.Names]);
        var gbdtPartitions = new Option<int>("--gbdt-partitions") { Description = "gbdt peer only: add the statistics of the user's closed count-K partitions (every K events close one; liking overall and of the target's categories, recency-weighted, the last partition, the trends) as columns, computed from the events without LIBER's texts or encoder; 0: none", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { backbone, historyLength, checkpoint, liber, fusion, maxPartitions, gbdtPartitions, json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r =>
        {
            // Every flag is checked before the data set is loaded and before any UIL or encoding work.
            ds.Validate(r);
            training.Validate(r);
            FlagChecks.AtLeast(r, historyLength, 1, "L");
            FlagChecks.AtLeast(r, maxPartitions, 1, "P");
            if (r.GetValue(liber))
            {
                chain.Validate(r);
                if (FusionVariant.Parse(r.GetValue(fusion)!).ReadsStatsVectors && r.GetValue(chain.Encoder) != global::Liber.Pipeline.ChainEncoders.Stats)
                {
                    throw new ArgumentException($"--fusion {r.GetValue(fusion)} reads the stats encoder's vectors by position: add --encoder stats (got --encoder {r.GetValue(chain.Encoder)})");
                }
            }

            if (r.GetValue(backbone) == global::Liber.Models.Gbdt.GbdtPeer.Name && (r.GetValue(liber) || r.GetValue(checkpoint) is not null))
            {
                throw new ArgumentException(r.GetValue(liber)
                    ? "--backbone gbdt --liber: the gbdt peer has no LIBER fusion; drop --liber (LIBER fuses into din, dien, deepfm, dcnv2, autoint, din-long, sim)"
                    : "--backbone gbdt --checkpoint: the gbdt peer writes no checkpoint (evaluate and serve score the neural backbones); drop --checkpoint");
            }

            FlagChecks.AtLeast(r, gbdtPartitions, 0, "K");
            if (r.GetValue(gbdtPartitions) > 0 && r.GetValue(backbone) != global::Liber.Models.Gbdt.GbdtPeer.Name)
            {
                throw new ArgumentException($"--gbdt-partitions applies to --backbone gbdt only (got --backbone {r.GetValue(backbone)}); LIBER brings partitions to the neural backbones with --liber");
            }

            int seed = r.GetValue(ds.Seed);
            var options = new RunOptions
            {
                Backbone = r.GetValue(backbone)!,
                Options = training.Backbone(r, BackboneOptions.TrainDefaults),
                Threads = training.ThreadCount(r),
                Samples = negatives.Apply(r, new SampleOptions { HistoryLength = r.GetValue(historyLength) }),
                Training = training.Training(r, seed),
                FusionVariant = FusionVariant.Parse(r.GetValue(fusion)!),
                MaxPartitions = r.GetValue(maxPartitions),
                CheckpointDirectory = r.GetValue(checkpoint),
                Gbdt = new global::Liber.Models.Gbdt.GbdtOptions { Partitions = r.GetValue(gbdtPartitions) },
            };
            bool asJson = r.GetValue(json);
            var dataset = ds.Load(r);
            using LlmBackend? backend = r.GetValue(liber) ? chain.Llm.CreateBackend(r) : null;
            ChainSettings? settings = backend is null ? null : ChainSettings.FromFlags(r, chain, dataset.Kind);
            if (settings is not null)
            {
                options = options with { Liber = settings.ToSetup(backend!.Backend, options.MaxPartitions, options.FusionVariant) };
            }

            CommandIo progress = asJson ? io with { Output = io.Error } : io;
            RunOutcome outcome = ConsoleProgress.Run(progress, $"{options.Backbone}{(backend is null ? "" : "+liber")}", options.Training.Epochs, step =>
            {
                using LiberVectorSource? source = backend is null ? null : chain.CreateSource(r, settings!, options.FusionVariant, backend, step.Log);
                return TrainingRun.Execute(dataset, options, source, e => step.Report(e.Epoch, string.Create(
                    CultureInfo.InvariantCulture,
                    $"epoch {e.Epoch}: loss {e.TrainLoss:F4}, valid AUC {e.Valid.Auc:F4} logloss {e.Valid.LogLoss:F4} GAUC {e.Valid.Gauc:F4}, {e.SamplesPerSecond:N0} samples/s")));
            });
            var report = TrainReport.Of(outcome, dataset.Kind, options);
            if (asJson)
            {
                io.Output.WriteLine(JsonSerializer.Serialize(report, TrainReport.Json));
            }
            else
            {
                io.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.Backbone}: best epoch {report.BestEpoch} of {report.Epochs}; valid AUC {report.Valid.Auc:F4}; test AUC {report.Test.Auc:F4} logloss {report.Test.LogLoss:F4} GAUC {report.Test.Gauc:F4}; {report.TrainSamplesPerSecond:N0} samples/s; {report.Seconds:F1} s"));
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }
}

/// <summary>Metrics of one split as printed (undefined metrics are null).</summary>
public sealed record SplitReport(
    [property: JsonPropertyName("auc")] double? Auc,
    [property: JsonPropertyName("logloss")] double? LogLoss,
    [property: JsonPropertyName("gauc")] double? Gauc,
    [property: JsonPropertyName("samples")] int Samples)
{
    /// <summary>The same metrics by the user's earlier events (lifelong buckets: 0-49, 50-199, 200-999, 1000+), or null.</summary>
    [JsonPropertyName("buckets")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, SplitReport>? Buckets { get; init; }

    /// <summary>Implicit data: HR@K and NDCG@K of each positive among its drawn negatives (K and the candidate count stated), or null.</summary>
    [JsonPropertyName("ranking")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RankingMetrics? Ranking { get; init; }

    /// <summary>From metrics, NaN as null.</summary>
    public static SplitReport Of(SplitMetrics m) => new(Finite(m.Auc), Finite(m.LogLoss), Finite(m.Gauc), m.Samples)
    {
        Buckets = m.Buckets?.ToDictionary(b => b.Bucket, b => Of(b.Metrics)),
        Ranking = m.Ranking,
    };

    private static double? Finite(double x) => double.IsFinite(x) ? Math.Round(x, 6) : null;
}

/// <summary>What <c>liber train --json</c> prints.</summary>
public sealed record TrainReport
{
    /// <summary>JSON options.</summary>
    public static JsonSerializerOptions Json { get; } = new() { WriteIndented = true };

    /// <summary>Backbone (with +liber when fused).</summary>
    [JsonPropertyName("backbone")] public required string Backbone { get; init; }

    /// <summary>Data set kind.</summary>
    [JsonPropertyName("dataset")] public required string Dataset { get; init; }

    /// <summary>Seed.</summary>
    [JsonPropertyName("seed")] public long Seed { get; init; }

    /// <summary>Threads.</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; }

    /// <summary>Device.</summary>
    [JsonPropertyName("device")] public required string Device { get; init; }

    /// <summary>Validation metrics of the best epoch.</summary>
    [JsonPropertyName("valid")] public required SplitReport Valid { get; init; }

    /// <summary>Test metrics of the best epoch's model.</summary>
    [JsonPropertyName("test")] public required SplitReport Test { get; init; }

    /// <summary>Epochs run.</summary>
    [JsonPropertyName("epochs")] public int Epochs { get; init; }

    /// <summary>Best epoch (1-based).</summary>
    [JsonPropertyName("best_epoch")] public int BestEpoch { get; init; }

    /// <summary>Training throughput, batch building included.</summary>
    [JsonPropertyName("train_samples_per_second")] public double TrainSamplesPerSecond { get; init; }

    /// <summary>Wall time of the run after loading.</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; init; }

    /// <summary>Train, validation, test sample counts.</summary>
    [JsonPropertyName("samples")] public required IReadOnlyDictionary<string, int> Samples { get; init; }

    /// <summary>The resolved model config.</summary>
    [JsonPropertyName("config")] public required ModelConfig Config { get; init; }

    /// <summary>The GBDT peer's options when the backbone is gbdt, else null.</summary>
    [JsonPropertyName("gbdt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public global::Liber.Models.Gbdt.GbdtOptions? Gbdt { get; init; }

    /// <summary>LIBER's vector source and its LLM/encoder accounting, or null.</summary>
    [JsonPropertyName("liber")] public IReadOnlyDictionary<string, object>? Liber { get; init; }

    /// <summary>UIF's attention of one test sample over its visible partitions (experiment runs with attention fusion), or null.</summary>
    [JsonPropertyName("attention")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Pipeline.AttentionProbe? Attention { get; init; }

    /// <summary>Builds the report of a run.</summary>
    public static TrainReport Of(RunOutcome o, string dataset, RunOptions options) => new()
    {
        Backbone = o.Config.Fusion is null ? o.Config.Backbone : $"{o.Config.Backbone}+liber({o.Config.Fusion.Variant})",
        Dataset = dataset,
        Seed = options.Training.Seed,
        Threads = options.Threads,
        Device = options.Training.Device,
        Valid = SplitReport.Of(o.Result.Valid),
        Test = SplitReport.Of(o.Result.Test),
        Epochs = o.Result.Epochs,
        BestEpoch = o.Result.BestEpoch,
        TrainSamplesPerSecond = Math.Round(o.Result.TrainSamplesPerSecond, 1),
        Seconds = Math.Round(o.Seconds, 3),
        Samples = new Dictionary<string, int> { ["train"] = o.Samples.TrainCount, ["valid"] = o.Samples.ValidCount, ["test"] = o.Samples.TestCount },
        Config = o.Config,
        Gbdt = o.Config.Backbone == global::Liber.Models.Gbdt.GbdtPeer.Name ? options.Gbdt with { Seed = unchecked((int)options.Training.Seed), Threads = options.Threads } : null,
        Liber = o.Liber is { } l ? new Dictionary<string, object> { ["source"] = l.Name, ["accounting"] = l.Accounting } : null,
    };
}
