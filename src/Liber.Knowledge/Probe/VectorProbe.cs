using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Liber.Knowledge.Probe;

/// <summary>What a probe predicts: a class (accuracy) or a number (R²).</summary>
public enum ProbeKind
{
    /// <summary>Class indices 0..K-1; scored by accuracy against the majority class.</summary>
    Class,

    /// <summary>A real value; scored by R² (0 = predicting the training mean).</summary>
    Value,
}

/// <summary>One probe target: a value per vector.</summary>
/// <param name="Name">Name, e.g. <c>dominant_category</c>.</param>
/// <param name="Kind">Class or value.</param>
/// <param name="Values">Per vector: the class index, or the value; NaN leaves the vector out of this target.</param>
public sealed record ProbeTarget(string Name, ProbeKind Kind, float[] Values);

/// <summary>A probe's score on the held-out users.</summary>
/// <param name="Target">Target name.</param>
/// <param name="Metric">accuracy or r2.</param>
/// <param name="Score">The linear probe's score on the test users.</param>
/// <param name="Baseline">The score of the trivial predictor (majority class; the training mean, R² about 0).</param>
/// <param name="TrainRows">Vectors of the training users.</param>
/// <param name="TestRows">Vectors of the test users.</param>
public sealed record ProbeScore(string Target, string Metric, double Score, double Baseline, int TrainRows, int TestRows);

/// <summary>
/// Linear probes: how much of a property a set of vectors keeps, read by a linear model (ML.NET's SDCA: maximum entropy
/// for classes, least squares for values, L2-regularised, over features standardised on the training rows: encoder vectors have tiny components that the regulariser would otherwise silence) trained on some users' vectors and scored on the others' (users
/// are split, never vectors, so a user's style cannot leak from train into test). Deterministic for a seed (one thread).
/// Used to tell, without training a CTR model, whether partition vectors keep what their texts say.
/// </summary>
public static class VectorProbe
{
    /// <summary>L2 regularisation of both probes (SDCA's automatic choice diverged on small, unscaled inputs).</summary>
    public const float Regularisation = 1e-2f;

    /// <summary>Probes every target; <paramref name="testShare"/> of the users (drawn with <paramref name="seed"/>) are held out.</summary>
    public static IReadOnlyList<ProbeScore> Run(IReadOnlyList<float[]> vectors, IReadOnlyList<int> users, IReadOnlyList<ProbeTarget> targets, double testShare = 0.3, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(targets);
        if (vectors.Count != users.Count || targets.Any(t => t.Values.Length != vectors.Count))
        {
            throw new ArgumentException($"{vectors.Count} vectors, {users.Count} users and targets of {string.Join("/", targets.Select(t => t.Values.Length))} values must agree");
        }

        if (!(testShare > 0 && testShare < 1))
        {
            throw new ArgumentException($"the test share must be in (0, 1), got {testShare}");
        }

        int dim = vectors.Count == 0 ? 0 : vectors[0].Length;
        if (vectors.Any(v => v.Length != dim))
        {
            throw new ArgumentException("vectors must all have the same dimension");
        }

        var rng = new Random(seed);
        var distinct = users.Distinct().Order().ToArray();
        rng.Shuffle(distinct);
        var heldOut = distinct.Take(Math.Max(1, (int)Math.Round(distinct.Length * testShare))).ToHashSet();
        var ml = new MLContext(seed: seed);
        var result = new List<ProbeScore>();
        foreach (ProbeTarget target in targets)
        {
            var train = new List<Row>();
            var test = new List<Row>();
            for (int i = 0; i < vectors.Count; i++)
            {
                if (float.IsNaN(target.Values[i]))
                {
                    continue;
                }

                var row = new Row { Features = vectors[i], Label = target.Values[i] };
                (heldOut.Contains(users[i]) ? test : train).Add(row);
            }

            if (train.Count == 0 || test.Count == 0)
            {
                result.Add(new ProbeScore(target.Name, target.Kind == ProbeKind.Class ? "accuracy" : "r2", double.NaN, double.NaN, train.Count, test.Count));
                continue;
            }

            result.Add(target.Kind == ProbeKind.Class ? Classify(ml, target.Name, train, test, dim) : Regress(ml, target.Name, train, test, dim));
        }

        return result;
    }

    private static ProbeScore Classify(MLContext ml, string name, List<Row> train, List<Row> test, int dim)
    {
        // Classes become keys over the training classes (the usual ML.NET pipeline); a test class unseen in training is a miss.
        SchemaDefinition schema = ValueSchema(dim);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = 1, MaximumNumberOfIterations = 100, L2Regularization = Regularisation }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(ml.Data.LoadFromEnumerable(train, schema));
        float[] predicted = [.. model.Transform(ml.Data.LoadFromEnumerable(test, schema)).GetColumn<float>("PredictedLabel")];
        int hits = 0;
        for (int i = 0; i < test.Count; i++)
        {
            hits += predicted[i] == test[i].Label ? 1 : 0;
        }

        float majority = train.GroupBy(r => r.Label).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        double baseline = (double)test.Count(r => r.Label == majority) / test.Count;
        return new ProbeScore(name, "accuracy", (double)hits / test.Count, baseline, train.Count, test.Count);
    }

    private static ProbeScore Regress(MLContext ml, string name, List<Row> train, List<Row> test, int dim)
    {
        var schema = ValueSchema(dim);
        var trainer = ml.Transforms.NormalizeMeanVariance("Features")
            .Append(ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options { NumberOfThreads = 1, MaximumNumberOfIterations = 100, L2Regularization = Regularisation }));
        var model = trainer.Fit(ml.Data.LoadFromEnumerable(train, schema));
        float[] predicted = [.. model.Transform(ml.Data.LoadFromEnumerable(test, schema)).GetColumn<float>("Score")];
        double mean = train.Average(r => r.Label), residual = 0, total = 0;
        double testMean = test.Average(r => r.Label);
        for (int i = 0; i < test.Count; i++)
        {
            residual += Math.Pow(test[i].Label - predicted[i], 2);
            total += Math.Pow(test[i].Label - testMean, 2);
        }

        double baselineResidual = test.Sum(r => Math.Pow(r.Label - mean, 2));
        return total == 0
            ? new ProbeScore(name, "r2", double.NaN, double.NaN, train.Count, test.Count)
            : new ProbeScore(name, "r2", 1 - (residual / total), 1 - (baselineResidual / total), train.Count, test.Count);
    }

    private static SchemaDefinition ValueSchema(int dim)
    {
        SchemaDefinition s = SchemaDefinition.Create(typeof(Row));
        s[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dim);
        return s;
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }
}
