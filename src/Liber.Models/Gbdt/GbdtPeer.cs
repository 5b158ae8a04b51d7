using System.Diagnostics;
using System.Text.Json.Serialization;
using Liber.Core.Streams;
using Liber.Models.Features;
using Liber.Models.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;

namespace Liber.Models.Gbdt;

/// <summary>Options of the GBDT peer (LightGBM through ML.NET). Defaults are the usual LightGBM starting point, chosen on validation only.</summary>
public sealed record GbdtOptions
{
    /// <summary>Most boosting rounds (default 2,000; early stopping usually ends far sooner).</summary>
    [JsonPropertyName("iterations")] public int Iterations { get; init; } = 2000;

    /// <summary>Rounds without a better validation AUC before stopping (default 50).</summary>
    [JsonPropertyName("early_stopping")] public int EarlyStopping { get; init; } = 50;

    /// <summary>Leaves per tree (default 31).</summary>
    [JsonPropertyName("leaves")] public int Leaves { get; init; } = 31;

    /// <summary>Shrinkage (default 0.05).</summary>
    [JsonPropertyName("lr")] public double LearningRate { get; init; } = 0.05;

    /// <summary>Fewest samples in a leaf (default 100).</summary>
    [JsonPropertyName("min_leaf")] public int MinLeaf { get; init; } = 100;

    /// <summary>L2 regularisation of leaf values (default 1).</summary>
    [JsonPropertyName("l2")] public double L2 { get; init; } = 1;

    /// <summary>Seed (LightGBM's; with one thread two runs give the same model).</summary>
    [JsonPropertyName("seed")] public int Seed { get; init; } = 1;

    /// <summary>Threads (default 1: deterministic).</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; } = 1;

    /// <summary>
    /// Partition size K of the closed count-K partitions' columns (<see cref="GbdtFeatures.PartitionNames"/>); 0 (the default)
    /// leaves them out.
    /// </summary>
    [JsonPropertyName("partitions")] public int Partitions { get; init; }

    /// <summary>Validates the options, naming the first value out of range.</summary>
    public void Validate()
    {
        (string Name, bool Ok, object Value, string Range)[] checks =
        [
            ("iterations", Iterations >= 1, Iterations, ">= 1"),
            ("early_stopping", EarlyStopping >= 1, EarlyStopping, ">= 1"),
            ("leaves", Leaves >= 2, Leaves, ">= 2"),
            ("lr", LearningRate > 0 && LearningRate <= 1, LearningRate, "in (0, 1]"),
            ("min_leaf", MinLeaf >= 1, MinLeaf, ">= 1"),
            ("l2", L2 >= 0 && double.IsFinite(L2), L2, ">= 0"),
            ("threads", Threads >= 1, Threads, ">= 1"),
            ("partitions", Partitions >= 0, Partitions, ">= 0 (0: no partition columns)"),
        ];
        foreach (var c in checks.Where(c => !c.Ok))
        {
            throw new ArgumentException($"gbdt option {c.Name} = {c.Value} is out of range (must be {c.Range})");
        }
    }
}

/// <summary>
/// The gradient-boosted-trees peer: LightGBM over <see cref="GbdtFeatures"/>, trained on the train split with early
/// stopping on the validation split's AUC, validation and test scored with the project's own metrics (the same
/// <see cref="TrainResult"/> as the neural backbones). It is the first baseline a recommender engineer asks for and the
/// bar the neural backbones must clear.
/// </summary>
public sealed class GbdtPeer : IDisposable
{
    /// <summary>The peer's name where a backbone name is expected (<c>liber train --backbone gbdt</c>).</summary>
    public const string Name = "gbdt";

    /// <summary>File name of a saved model in a checkpoint folder.</summary>
    public const string ModelFile = "gbdt.zip";

    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly DataViewSchema _schema;

    private GbdtPeer(MLContext ml, ITransformer model, DataViewSchema schema, GbdtFeatures features, int trees)
    {
        _ml = ml;
        _model = model;
        _schema = schema;
        Features = features;
        Trees = trees;
    }

    /// <summary>The feature rows the model reads.</summary>
    public GbdtFeatures Features { get; }

    /// <summary>Trees in the trained ensemble.</summary>
    public int Trees { get; }

    /// <summary>Trains on the train split, stops early on validation AUC, reports validation and test.</summary>
    public static (GbdtPeer Model, TrainResult Result) Fit(SampleSet samples, GbdtFeatures features, GbdtOptions options)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var total = Stopwatch.StartNew();
        var ml = new MLContext(seed: options.Seed);
        SchemaDefinition schema = RowSchema(features.Width);
        IDataView train = ml.Data.LoadFromEnumerable(Rows(samples, features, samples.RangeOf(Split.Train)), schema);
        IDataView valid = ml.Data.LoadFromEnumerable(Rows(samples, features, samples.RangeOf(Split.Valid)), schema);
        var trainer = ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
        {
            NumberOfIterations = options.Iterations,
            EarlyStoppingRound = options.EarlyStopping,
            NumberOfLeaves = options.Leaves,
            LearningRate = options.LearningRate,
            MinimumExampleCountPerLeaf = options.MinLeaf,
            Seed = options.Seed,
            NumberOfThreads = options.Threads,
            EvaluationMetric = LightGbmBinaryTrainer.Options.EvaluateMetricType.AreaUnderCurve,
            Booster = new GradientBooster.Options { L2Regularization = options.L2 },
            Silent = true,
        });
        var trainWatch = Stopwatch.StartNew();
        var model = trainer.Fit(train, valid);
        double trainSeconds = trainWatch.Elapsed.TotalSeconds;
        int trees = model.Model.SubModel.TrainedTreeEnsemble.Trees.Count;
        var peer = new GbdtPeer(ml, model, train.Schema, features, trees);
        SplitMetrics v = peer.Evaluate(samples, samples.RangeOf(Split.Valid));
        SplitMetrics t = peer.Evaluate(samples, samples.RangeOf(Split.Test));
        var record = new EpochRecord(trees, double.NaN, v, trainSeconds, samples.TrainCount / Math.Max(trainSeconds, 1e-9));
        return (peer, new TrainResult(v, t, trees, trees, record.SamplesPerSecond, total.Elapsed.TotalSeconds, [record]));
    }

    /// <summary>Click probabilities of the samples in <paramref name="ordinals"/>.</summary>
    public float[] Predict(SampleSet samples, Range ordinals)
    {
        ArgumentNullException.ThrowIfNull(samples);
        IDataView data = _ml.Data.LoadFromEnumerable(Rows(samples, Features, ordinals), RowSchema(Features.Width));
        IDataView scored = _model.Transform(data);
        return [.. scored.GetColumn<float>("Probability")];
    }

    /// <summary>AUC, LogLoss and GAUC of the samples in <paramref name="ordinals"/>.</summary>
    public SplitMetrics Evaluate(SampleSet samples, Range ordinals)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return SplitMetrics.Of(Predict(samples, ordinals), samples, ordinals);
    }

    /// <summary>Saves the trained model (ML.NET's zip) into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        _ml.Model.Save(_model, _schema, Path.Combine(directory, ModelFile));
    }

    /// <inheritdoc />
    public void Dispose() => (_model as IDisposable)?.Dispose();

    private static SchemaDefinition RowSchema(int width)
    {
        SchemaDefinition schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }

    private static IEnumerable<Row> Rows(SampleSet samples, GbdtFeatures features, Range ordinals)
    {
        (int offset, int count) = ordinals.GetOffsetAndLength(samples.Count);
        for (int k = offset; k < offset + count; k++)
        {
            var values = new float[features.Width];
            features.Write(k, values);
            yield return new Row { Features = values, Label = samples.Label(k) == 1 };
        }
    }

    /// <summary>One sample as ML.NET reads it.</summary>
    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }
}
