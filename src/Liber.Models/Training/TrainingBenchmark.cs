using System.Diagnostics;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Fusion;
using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Training;

/// <summary>A training throughput measurement.</summary>
/// <param name="Backbone">Backbone name (with +liber when fused).</param>
/// <param name="Threads">Intra-op threads.</param>
/// <param name="BatchSize">Batch size.</param>
/// <param name="Samples">Training samples timed (after warm-up).</param>
/// <param name="Seconds">Wall time of the timed steps, batch building included.</param>
/// <param name="SamplesPerSecond">Samples / seconds.</param>
/// <param name="CollateShare">Share of the time spent building batches on the host.</param>
/// <param name="ForwardShare">Share of the time in the forward pass and the loss.</param>
/// <param name="BackwardShare">Share of the time in the backward pass.</param>
/// <param name="OptimizerShare">Share of the time in zero_grad and the AdamW step.</param>
/// <param name="PeakWorkingSetMb">Peak working set of the process (MB).</param>
/// <param name="Machine">Processor count and OS.</param>
public sealed record TrainingThroughput(string Backbone, int Threads, int BatchSize, int Samples, double Seconds, double SamplesPerSecond, double CollateShare, double ForwardShare, double BackwardShare, double OptimizerShare, double PeakWorkingSetMb, string Machine);

/// <summary>Training throughput of a backbone on real samples (for <c>liber bench train</c> and the report).</summary>
public static class TrainingBenchmark
{
    /// <summary>
    /// Times <paramref name="batches"/> training steps (forward, backward, AdamW, batch building included) over
    /// shuffled train samples after <paramref name="warmup"/> untimed steps, with the backbone options
    /// <paramref name="options"/> (default: the record's; <c>liber bench train</c> passes <see cref="BackboneOptions.TrainDefaults"/>,
    /// the model <c>liber train</c> builds).
    /// </summary>
    public static TrainingThroughput Measure(SampleSet samples, string backbone, int threads = 2, PartitionVectors? liber = null, int batchSize = 256, int batches = 200, int warmup = 10, BackboneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        TorchRuntime.Configure(threads, 1);
        FeatureTables tables = FeatureTables.Build(samples);
        var config = new ModelConfig
        {
            Backbone = backbone,
            Options = options ?? new BackboneOptions(),
            Fusion = liber is null ? null : new FusionOptions { InputSize = liber.Dimension, MaxPartitions = liber.IsPerUser ? 1 : tables.Map.MaxPartitions, Variant = liber.IsPerUser ? FusionVariant.PerUser : FusionVariant.Attention },
        };
        using var model = new CtrModel(tables.Map, config);
        var collator = Collator.For(model, samples, tables, liber);
        using var optimizer = new HeldScalarAdamW(model.parameters(), lr: 1e-3);
        int[] train = Enumerable.Range(0, samples.TrainCount).ToArray();
        new Random(1).Shuffle(train);
        model.train();
        var collate = new Stopwatch();
        var forward = new Stopwatch();
        var backward = new Stopwatch();
        var adam = new Stopwatch();
        var total = new Stopwatch();
        int timed = 0;
        for (int i = 0; i < warmup + batches; i++)
        {
            if (i == warmup)
            {
                collate.Reset();
                forward.Reset();
                backward.Reset();
                adam.Reset();
                total.Restart();
            }

            int start = (i * batchSize) % Math.Max(1, train.Length - batchSize);
            using var scope = NewDisposeScope();
            collate.Start();
            CtrBatch batch = collator.Build(train.AsSpan(start, Math.Min(batchSize, train.Length - start)));
            collate.Stop();
            adam.Start();
            optimizer.ZeroGrad();
            adam.Stop();
            forward.Start();
            ModelOutput output = model.Run(batch);
            Tensor loss = nn.functional.binary_cross_entropy_with_logits(output.Logits, batch.Labels);
            if (output.AuxiliaryLoss is not null)
            {
                loss += output.AuxiliaryLoss;
            }

            forward.Stop();
            backward.Start();
            loss.backward();
            backward.Stop();
            adam.Start();
            optimizer.Step();
            adam.Stop();
            if (i >= warmup)
            {
                timed += batch.Size;
            }
        }

        double seconds = total.Elapsed.TotalSeconds;
        using var process = Process.GetCurrentProcess();
        return new TrainingThroughput(
            liber is null ? backbone : backbone + "+liber", threads, batchSize, timed, seconds, timed / seconds,
            collate.Elapsed.TotalSeconds / seconds, forward.Elapsed.TotalSeconds / seconds, backward.Elapsed.TotalSeconds / seconds,
            adam.Elapsed.TotalSeconds / seconds, process.PeakWorkingSet64 / 1048576.0,
            $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
    }
}
