using System.Diagnostics;
using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Fusion;

namespace Liber.Models.Training;

/// <summary>Everything one training run needs besides the data set.</summary>
public sealed record RunOptions
{
    /// <summary>Backbone name.</summary>
    public required string Backbone { get; init; }

    /// <summary>Backbone options.</summary>
    public BackboneOptions Options { get; init; } = new();

    /// <summary>Trainer options (seed, epochs, batch size, lr, device).</summary>
    public TrainOptions Training { get; init; } = new();

    /// <summary>Intra-op threads (1 gives bit-identical runs).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Sample options (L, min history, threshold).</summary>
    public SampleOptions Samples { get; init; } = new();

    /// <summary>UIF variant when a vector source is given (default attention).</summary>
    public FusionVariant FusionVariant { get; init; } = FusionVariant.Attention;

    /// <summary>P, visible partitions per sample (default 32).</summary>
    public int MaxPartitions { get; init; } = 32;

    /// <summary>Checkpoint folder, or null for none.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>LIBER's chain as configured (recorded in the checkpoint beside the data set's sample settings), or null without LIBER.</summary>
    public LiberSetup? Liber { get; init; }

    /// <summary>Options of the GBDT peer (backbone <c>gbdt</c>); its seed is <see cref="TrainOptions.Seed"/> and its threads <see cref="Threads"/>.</summary>
    public Gbdt.GbdtOptions Gbdt { get; init; } = new();
}

/// <summary>The outcome of <see cref="TrainingRun.Execute"/>.</summary>
/// <param name="Result">The trainer's result.</param>
/// <param name="Config">The resolved model config.</param>
/// <param name="Samples">The samples (for split sizes).</param>
/// <param name="Liber">The vector source's name and accounting, or null without LIBER.</param>
/// <param name="Seconds">Wall time of the whole run (samples, vectors, training, evaluation).</param>
public sealed record RunOutcome(TrainResult Result, ModelConfig Config, SampleSet Samples, (string Name, IReadOnlyDictionary<string, long> Accounting)? Liber, double Seconds);

/// <summary>One training run over a loaded data set: samples -> features -> (LIBER vectors) -> model -> trainer -> checkpoint.</summary>
public static class TrainingRun
{
    /// <summary>Every name <see cref="Execute"/> trains: the catalog's neural backbones and the GBDT peer.</summary>
    public static IReadOnlyList<string> Backbones { get; } = [.. BackboneCatalog.Names, Gbdt.GbdtPeer.Name];

    /// <summary>Throws a user error naming the accepted names when <paramref name="name"/> is not one of <see cref="Backbones"/>.</summary>
    public static void CheckBackbone(string name)
    {
        if (name != Gbdt.GbdtPeer.Name)
        {
            BackboneCatalog.Get(name);
        }
    }

    /// <summary>Runs it; <paramref name="liber"/> adds LIBER's fusion with vectors from the source.</summary>
    /// <param name="dataset">The data set.</param>
    /// <param name="options">The run's options.</param>
    /// <param name="liber">LIBER's vector source, or null for the backbone alone.</param>
    /// <param name="progress">Called after every epoch.</param>
    /// <param name="inspect">Called with the trained model (best epoch) and its collator before they are disposed (reports, attention weights).</param>
    public static RunOutcome Execute(Dataset dataset, RunOptions options, IPartitionVectorSource? liber = null, Action<EpochRecord>? progress = null, Action<CtrModel, Collator>? inspect = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        var sw = Stopwatch.StartNew();
        options.Options.Validate();
        options.Training.Validate();
        Devices.Resolve(options.Training.Device);
        CheckBackbone(options.Backbone);
        bool gbdt = options.Backbone == Gbdt.GbdtPeer.Name;
        if (gbdt && (liber is not null || options.CheckpointDirectory is not null))
        {
            throw new ArgumentException(liber is not null
                ? "the gbdt peer has no LIBER fusion: drop --liber (LIBER fuses into the neural backbones)"
                : "the gbdt peer writes no checkpoint (evaluate and serve score the neural backbones): drop --checkpoint");
        }

        SampleSet samples = SampleSet.Build(UserStreams.Build(dataset), options.Samples);
        if (samples.TrainCount == 0 || samples.ValidCount == 0 || samples.TestCount == 0)
        {
            throw new ArgumentException($"data set {dataset.Source} gives {samples.TrainCount} train, {samples.ValidCount} validation and {samples.TestCount} test samples: each split needs at least one");
        }

        FeatureTables tables = FeatureTables.Build(samples, options.MaxPartitions);
        if (gbdt)
        {
            var features = new Gbdt.GbdtFeatures(samples, PointInTimeStats.Compute(samples), tables, options.Options, options.Gbdt.Partitions);
            (Gbdt.GbdtPeer peer, TrainResult trees) = Gbdt.GbdtPeer.Fit(samples, features, options.Gbdt with { Seed = unchecked((int)options.Training.Seed), Threads = options.Threads });
            peer.Dispose();
            progress?.Invoke(trees.History[^1]);
            return new RunOutcome(trees, new ModelConfig { Backbone = Gbdt.GbdtPeer.Name, Options = options.Options }, samples, null, sw.Elapsed.TotalSeconds);
        }

        using PartitionVectors? vectors = liber?.Build(samples);
        FusionOptions? fusion = vectors is null ? null : new FusionOptions
        {
            Variant = options.FusionVariant,
            InputSize = vectors.Dimension,
            MaxPartitions = vectors.IsPerUser ? 1 : options.MaxPartitions,
            StatsLayout = vectors.StatsLayout is { } layout ? new StatsLayout(layout.Categories.Count, layout.Decades) : null,
        };
        if (fusion is { Variant.ReadsStatsVectors: true } && vectors!.StatsLayout is { } stats
            && !stats.Categories.SequenceEqual(tables.Map.Categories, StringComparer.OrdinalIgnoreCase))
        {
            // The read-out takes a target's category id as the column of the same category: both orders must agree.
            throw new InvalidOperationException($"fusion variant 'stats-readout': the stats encoder's categories ({string.Join(", ", stats.Categories.Take(5))} ...) are not the model's ({string.Join(", ", tables.Map.Categories.Take(5))} ...) in the same order");
        }

        var config = new ModelConfig { Backbone = options.Backbone, Options = options.Options, Fusion = fusion };
        TorchRuntime.Configure(options.Threads, options.Training.Seed);
        using var model = new CtrModel(tables.Map, config);
        var collator = Collator.For(model, samples, tables, vectors);
        TrainResult result = Trainer.Fit(model, collator, options.Training, progress);
        if (options.CheckpointDirectory is string dir)
        {
            var setup = new CheckpointSetup
            {
                Dataset = new DatasetSetup { Kind = dataset.Kind, Threshold = samples.Threshold, MinHistory = options.Samples.MinHistory, HistoryLength = options.Samples.HistoryLength },
                Liber = fusion is null ? null : options.Liber,
            };
            Checkpoint.Save(dir, model, options.Training, setup);
            Serving.CheckpointVocabulary.Build(tables, dataset).Save(Path.Combine(dir, Checkpoint.VocabularyFile));
        }

        inspect?.Invoke(model, collator);

        return new RunOutcome(result, config, samples, liber is null ? null : (liber.Name, liber.Accounting), sw.Elapsed.TotalSeconds);
    }
}
