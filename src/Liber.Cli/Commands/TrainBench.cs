using System.CommandLine;
using System.Text.Json;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Fusion;
using Liber.Models.Training;

namespace Liber.Cli.Commands;

/// <summary><c>liber bench train</c>: training throughput (samples/s, batch building included) and peak memory.</summary>
public static class TrainBench
{
    /// <summary>Creates the <c>bench train</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("train", "training throughput of backbones (forward, backward, AdamW and batch building; samples/s after a warm-up) and peak memory; --liber adds UIF over fixed random 384-d partition vectors (throughput only)");
        var ds = new DatasetOptions();
        ds.AddTo(cmd);
        var backbones = new Option<string[]>("--backbone") { Description = "backbones to time", DefaultValueFactory = _ => ["din"], AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads") { Description = "intra-op threads", DefaultValueFactory = _ => 2 };
        var batches = new Option<int>("--batches") { Description = "timed batches", DefaultValueFactory = _ => 200 };
        var batchSize = new Option<int>("--batch-size") { Description = "batch size", DefaultValueFactory = _ => 256 };
        var liber = new Option<bool>("--liber") { Description = "also time each backbone with UIF over random fixed partition vectors (count k=20, 384-d)" };
        var json = new Option<bool>("--json") { Description = "print one JSON array" };
        foreach (Option o in new Option[] { backbones, threads, batches, batchSize, liber, json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r =>
        {
            var samples = SampleSet.Build(UserStreams.Build(ds.Load(r)));
            var results = new List<TrainingThroughput>();
            foreach (string b in r.GetValue(backbones)!)
            {
                BackboneCatalog.Get(b);
                results.Add(TrainingBenchmark.Measure(samples, b, r.GetValue(threads), null, r.GetValue(batchSize), r.GetValue(batches), options: BackboneOptions.TrainDefaults));
                if (r.GetValue(liber))
                {
                    using PartitionVectors vectors = new RandomPartitionVectorSource().Build(samples);
                    results.Add(TrainingBenchmark.Measure(samples, b, r.GetValue(threads), vectors, r.GetValue(batchSize), r.GetValue(batches), options: BackboneOptions.TrainDefaults));
                }
            }

            if (r.GetValue(json))
            {
                io.Output.WriteLine(JsonSerializer.Serialize(results, DataCommand.Json));
            }
            else
            {
                foreach (TrainingThroughput t in results)
                {
                    io.Output.WriteLine($"{t.Backbone}: {t.SamplesPerSecond:N0} samples/s ({t.Threads} threads, batch {t.BatchSize}, time: batch building {t.CollateShare:P0}, forward {t.ForwardShare:P0}, backward {t.BackwardShare:P0}, AdamW {t.OptimizerShare:P0}), peak {t.PeakWorkingSetMb:N0} MB; {t.Machine}");
                }
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }
}
