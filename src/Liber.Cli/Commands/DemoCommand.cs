using System.CommandLine;
using Liber.Core.Partitioning;
using Liber.Core.Readers;
using Liber.Core.Streams;

namespace Liber.Cli.Commands;

/// <summary>
/// <c>liber demo</c>: the main job on the embedded synthetic world. For now it runs the stages that exist
/// (generation, user streams, samples, temporal split) and says which LIBER stages are still to come.
/// </summary>
public static class DemoCommand
{
    /// <summary>Creates the <c>demo</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var demo = new Command("demo", "run Liber's main job on the embedded synthetic world");
        var outDir = new Option<string>("--out") { Description = "report folder", DefaultValueFactory = _ => "liber-demo" };
        var users = new Option<int>("--users") { Description = "synthetic users", DefaultValueFactory = _ => 3000 };
        demo.Options.Add(outDir);
        demo.Options.Add(users);
        demo.SetAction(r =>
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var dataset = DatasetReaders.Load("synthetic", new DatasetRequest(null) { Synthetic = new() { Users = r.GetValue(users) } });
            var streams = UserStreams.Build(dataset);
            var samples = SampleSet.Build(streams);
            var stats = DatasetStats.Of(samples);
            DataCommand.WriteTable(io.Output, stats);
            string dir = r.GetValue(outDir) ?? "liber-demo";
            Directory.CreateDirectory(dir);
            string path = Path.Combine(dir, "dataset-stats.json");
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(stats, DataCommand.Json));
            var options = new PartitionOptions();
            var set = PartitionSet.Build(streams, PartitionPolicies.Create(options), options.Caps, ItemFeatures.Build(dataset, new Cl100kTokenCounter()));
            var partitions = PartitionSummary.Of(streams, set, 0);
            File.WriteAllText(Path.Combine(dir, "partitions.json"), System.Text.Json.JsonSerializer.Serialize(partitions, DataCommand.Json));
            io.Output.WriteLine($"UBSP {partitions.Policy}: {partitions.Partitions:N0} partitions, {partitions.EventsInCaches:N0} events still in short-term caches.");
            io.Output.WriteLine($"Done in {sw.Elapsed.TotalSeconds:F1} s; report files in {dir}/ (dataset-stats.json, partitions.json).");
            io.Output.WriteLine("Stages so far: data -> user streams -> CTR samples and split -> UBSP partitions. UIL texts, UIF fusion and training join this demo as they land.");
            return LiberCommand.Ok;
        });
        return demo;
    }
}
