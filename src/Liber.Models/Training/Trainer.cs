using System.Diagnostics;
using System.Text.Json.Serialization;
using Liber.Core.Streams;
using Liber.Models.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Training;

/// <summary>Options of a training run (defaults: the issue's: AdamW, at most 10 epochs, patience 2 on validation AUC).</summary>
public sealed record TrainOptions
{
    /// <summary>Most epochs (default 10).</summary>
    [JsonPropertyName("epochs")] public int Epochs { get; init; } = 10;

    /// <summary>Epochs without a better validation AUC before stopping (default 2).</summary>
    [JsonPropertyName("patience")] public int Patience { get; init; } = 2;

    /// <summary>Training batch size (default 256).</summary>
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 256;

    /// <summary>Evaluation batch size (default 2048).</summary>
    [JsonPropertyName("eval_batch_size")] public int EvalBatchSize { get; init; } = 2048;

    /// <summary>AdamW learning rate (default 1e-3).</summary>
    [JsonPropertyName("lr")] public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW weight decay (default 0: embeddings of rare ids should not decay between their updates).</summary>
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; }

    /// <summary>Seed of the shuffling (the caller seeds torch through <see cref="TorchRuntime.Configure"/> before building the model).</summary>
    [JsonPropertyName("seed")] public long Seed { get; init; } = 1;

    /// <summary>Device name: cpu (default) or cuda.</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "cpu";

    /// <summary>Validates the options.</summary>
    public void Validate()
    {
        // Each check names the one option that is wrong, its value and its range.
        static void Require(bool ok, string name, object value, string range)
        {
            if (!ok)
            {
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"training option {name} {value}: out of range; it must be {range}"));
            }
        }

        Require(Epochs >= 1, "epochs", Epochs, ">= 1");
        Require(Patience >= 1, "patience", Patience, ">= 1");
        Require(BatchSize >= 1, "batch_size", BatchSize, ">= 1");
        Require(EvalBatchSize >= 1, "eval_batch_size", EvalBatchSize, ">= 1");
        Require(LearningRate > 0, "lr", LearningRate, "> 0");
        Require(WeightDecay >= 0, "weight_decay", WeightDecay, ">= 0");
    }
}

/// <summary>One epoch of a run.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss (CTR loss plus any auxiliary loss).</param>
/// <param name="Valid">Validation metrics after the epoch.</param>
/// <param name="TrainSeconds">Wall time of the training pass (batch building included).</param>
/// <param name="SamplesPerSecond">Training samples per second of the pass.</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, SplitMetrics Valid, double TrainSeconds, double SamplesPerSecond);

/// <summary>The outcome of <see cref="Trainer.Fit"/>: the best epoch's validation and test metrics.</summary>
public sealed record TrainResult(SplitMetrics Valid, SplitMetrics Test, int Epochs, int BestEpoch, double TrainSamplesPerSecond, double Seconds, IReadOnlyList<EpochRecord> History);

/// <summary>
/// Trains a <see cref="CtrModel"/> outside the model: AdamW, seeded shuffling, one dispose scope per batch,
/// evaluation under no_grad, early stopping on validation AUC (the best epoch's weights are restored), test
/// read once at the end. With one thread, two runs with the same seed are bit-identical.
/// </summary>
public static class Trainer
{
    /// <summary>Trains on the train split, selects on validation, reports validation and test.</summary>
    public static TrainResult Fit(CtrModel model, Collator collator, TrainOptions options, Action<EpochRecord>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(collator);
        options.Validate();
        var total = Stopwatch.StartNew();
        Device device = Devices.Resolve(options.Device);
        model.to(device);
        SampleSet samples = collator.Samples;
        int[] train = Enumerable.Range(0, samples.TrainCount).ToArray();
        var rng = new Random(unchecked((int)options.Seed));
        using var optimizer = new HeldScalarAdamW(model.parameters(), lr: options.LearningRate, weightDecay: options.WeightDecay);
        double auxWeight = model.Config.Options.AuxiliaryWeight;
        var history = new List<EpochRecord>();
        Dictionary<string, Tensor>? best = null;
        double bestAuc = double.NegativeInfinity;
        int bestEpoch = 0, sinceBest = 0;
        double trainSeconds = 0;
        long trainSamples = 0;
        try
        {
            for (int epoch = 1; epoch <= options.Epochs; epoch++)
            {
                rng.Shuffle(train);
                model.train();
                var sw = Stopwatch.StartNew();
                double lossSum = 0;
                int batches = 0;
                for (int start = 0; start < train.Length; start += options.BatchSize)
                {
                    using var scope = NewDisposeScope();
                    ReadOnlySpan<int> ordinals = train.AsSpan(start, Math.Min(options.BatchSize, train.Length - start));
                    CtrBatch batch = OnDevice(collator.Build(ordinals), device);
                    optimizer.ZeroGrad();
                    ModelOutput output = model.Run(batch);
                    Tensor loss = nn.functional.binary_cross_entropy_with_logits(output.Logits, batch.Labels);
                    if (output.AuxiliaryLoss is not null)
                    {
                        using Scalar weight = auxWeight;                            // held until the call returns
                        loss += output.AuxiliaryLoss.mul(weight);
                    }

                    loss.backward();
                    optimizer.Step();
                    lossSum += loss.item<float>();
                    batches++;
                }

                double seconds = sw.Elapsed.TotalSeconds;
                trainSeconds += seconds;
                trainSamples += train.Length;
                SplitMetrics valid = Evaluate(model, collator, samples.RangeOf(Split.Valid), options.EvalBatchSize, device);
                var record = new EpochRecord(epoch, batches == 0 ? double.NaN : lossSum / batches, valid, seconds, train.Length / Math.Max(seconds, 1e-9));
                history.Add(record);
                progress?.Invoke(record);
                if (best is null || valid.Auc > bestAuc)
                {
                    DisposeAll(best);
                    best = Snapshot(model);
                    bestAuc = double.IsNaN(valid.Auc) ? double.NegativeInfinity : valid.Auc;
                    bestEpoch = epoch;
                    sinceBest = 0;
                }
                else if (++sinceBest >= options.Patience)
                {
                    break;
                }
            }

            model.load_state_dict(best!);
        }
        finally
        {
            DisposeAll(best);
        }

        SplitMetrics bestValid = history[bestEpoch - 1].Valid;
        SplitMetrics test = Evaluate(model, collator, samples.RangeOf(Split.Test), options.EvalBatchSize, device);
        return new TrainResult(bestValid, test, history.Count, bestEpoch, trainSamples / Math.Max(trainSeconds, 1e-9), total.Elapsed.TotalSeconds, history);
    }

    /// <summary>Click probabilities of the samples in an ordinal range, under no_grad in eval mode.</summary>
    public static float[] Predict(CtrModel model, Collator collator, Range ordinals, int batchSize = 2048, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(collator);
        device ??= CPU;
        (int offset, int length) = ordinals.GetOffsetAndLength(collator.Samples.Count);
        int[] all = Enumerable.Range(offset, length).ToArray();
        var result = new float[length];
        model.eval();
        using var grad = no_grad();
        for (int start = 0; start < length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(batchSize, length - start);
            CtrBatch batch = OnDevice(collator.Build(all.AsSpan(start, n)), device);
            float[] p = model.call(batch).sigmoid().cpu().data<float>().ToArray();
            p.CopyTo(result, start);
        }

        return result;
    }

    /// <summary>Metrics of the samples in an ordinal range.</summary>
    public static SplitMetrics Evaluate(CtrModel model, Collator collator, Range ordinals, int batchSize = 2048, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(collator);
        float[] p = Predict(model, collator, ordinals, batchSize, device);
        return SplitMetrics.Of(p, collator.Samples, ordinals);
    }

    private static CtrBatch OnDevice(CtrBatch batch, Device device)
    {
        if (device.type == DeviceType.CPU)
        {
            return batch;
        }

        // Inside the caller's dispose scope both copies are released with the batch's step.
        return batch.To(device);
    }

    private static Dictionary<string, Tensor> Snapshot(CtrModel model)
    {
        var copy = new Dictionary<string, Tensor>();
        foreach ((string name, Tensor t) in model.state_dict())
        {
            Tensor c = t.detach().clone();
            c.DetachFromDisposeScope();
            copy[name] = c;
        }

        return copy;
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null)
        {
            return;
        }

        foreach (Tensor t in tensors.Values)
        {
            t.Dispose();
        }

        tensors.Clear();
    }
}
