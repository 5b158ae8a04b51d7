// End-to-end model benchmarks (not a unit test: figures go into the report).
//   dotnet run -c Release -- throughput <kind> <folder> [threads] [batches]
//   dotnet run -c Release -- auc <kind> <folder> <backbone> [seed] [threads]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Liber.Core.Readers;
using Liber.Core.Streams;
using Liber.Models.Fusion;
using Liber.Models.Training;

string mode = args.Length > 0 ? args[0] : "throughput";
string kind = args.Length > 1 ? args[1] : "movielens-latest";
string folder = args.Length > 2 ? args[2] : "../shared/datasets/ml-latest-small";
var load = Stopwatch.StartNew();
var dataset = DatasetReaders.Load(kind, new DatasetRequest(folder));
Console.WriteLine($"loaded {kind} from {folder}: {dataset.Events.Count:N0} events in {load.Elapsed.TotalSeconds:F1} s");
var json = new JsonSerializerOptions { WriteIndented = false };
if (mode == "throughput")
{
    int threads = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 2;
    int batches = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 200;
    SampleSet samples = SampleSet.Build(UserStreams.Build(dataset));
    Console.WriteLine($"samples: {samples.Count:N0} (train {samples.TrainCount:N0})");
    string[] only = args.Length > 5 ? args[5].Split(',') : ["din", "deepfm", "din-long", "sim", "din+liber"];
    string[] backbones = ["din", "deepfm", "din-long", "sim"];
    foreach (string backbone in backbones.Where(only.Contains))
    {
        Console.WriteLine(JsonSerializer.Serialize(TrainingBenchmark.Measure(samples, backbone, threads, batches: batches), json));
    }

    if (!only.Contains("din+liber"))
    {
        return;
    }

    var sw = Stopwatch.StartNew();
    using PartitionVectors vectors = new RandomPartitionVectorSource(K: 20, Dimension: 384, Seed: 1).Build(samples);
    Console.WriteLine($"random partition vectors (count k=20, 384-d): {sw.Elapsed.TotalSeconds:F1} s");
    Console.WriteLine(JsonSerializer.Serialize(TrainingBenchmark.Measure(samples, "din", threads, vectors, batches: batches), json));
}
else
{
    string backbone = args[3];
    int seed = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1;
    int threads = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 2;
    var options = new RunOptions { Backbone = backbone, Threads = threads, Training = new TrainOptions { Seed = seed } };
    RunOutcome o = TrainingRun.Execute(dataset, options, null, e => Console.WriteLine(
        $"  epoch {e.Epoch}: loss {e.TrainLoss:F4} valid AUC {e.Valid.Auc:F4} GAUC {e.Valid.Gauc:F4} logloss {e.Valid.LogLoss:F4} ({e.SamplesPerSecond:N0} samples/s)"));
    Console.WriteLine($"{backbone} seed {seed}: best epoch {o.Result.BestEpoch}/{o.Result.Epochs}; valid AUC {o.Result.Valid.Auc:F4}; test AUC {o.Result.Test.Auc:F4} GAUC {o.Result.Test.Gauc:F4} logloss {o.Result.Test.LogLoss:F4}; {o.Seconds:F1} s");
}
