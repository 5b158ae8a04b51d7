using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Liber.Core.Readers;
using Liber.Core.Streams;

namespace Liber.Cli.Commands;

/// <summary><c>liber bench</c>: throughput benchmarks, printing machine, figure and unit.</summary>
public static class BenchCommand
{
    /// <summary>Creates the <c>bench</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var bench = new Command("bench", "throughput benchmarks (machine, figure, unit)");
        var data = new Command("data", "parse a MovieLens-1M-sized '::' data set and build user streams; reports events/s and peak memory");
        var events = new Option<int>("--events") { Description = "events to generate", DefaultValueFactory = _ => 1_000_000 };
        var dir = new Option<string?>("--dir") { Description = "folder for the generated files (default: a temporary folder, removed afterwards)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        data.Options.Add(events);
        data.Options.Add(dir);
        data.Options.Add(json);
        data.SetAction(r =>
        {
            string? given = r.GetValue(dir);
            string folder = given ?? Path.Combine(Path.GetTempPath(), "liber-bench-" + Guid.NewGuid().ToString("N"));
            try
            {
                int n = r.GetValue(events);
                WriteMl1m(folder, n, seed: 1);
                var result = Measure(folder);
                if (r.GetValue(json))
                {
                    io.Output.WriteLine(JsonSerializer.Serialize(result, DataCommand.Json));
                }
                else
                {
                    io.Output.WriteLine($"machine: {result["machine"]}");
                    io.Output.WriteLine($"events: {result["events"]:N0} in {result["file_mb"]} MB");
                    io.Output.WriteLine($"parse: {result["parse_seconds"]} s; streams: {result["streams_seconds"]} s");
                    io.Output.WriteLine($"throughput (parse + streams): {result["events_per_second"]:N0} events/s");
                    io.Output.WriteLine($"peak working set: {result["peak_working_set_mb"]} MB");
                }
            }
            finally
            {
                if (given is null && Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }

            return LiberCommand.Ok;
        });
        bench.Subcommands.Add(data);
        bench.Subcommands.Add(PartitionBench.Create(io));
        bench.Subcommands.Add(TrainBench.Create(io));
        bench.Subcommands.Add(BenchEncodeCommand.Create(io));
        bench.Subcommands.Add(Llm(io));
        return bench;
    }

    /// <summary><c>liber bench llm</c>: UIL runner overhead against an instant local stub, and the template backend end to end.</summary>
    private static Command Llm(CommandIo io)
    {
        var llm = new Command("llm", "UIL: runner calls/s against an instant local OpenAI-compatible stub (two-call, SQLite cache), and the template backend end to end over a data set");
        var users = new Option<int>("--users") { Description = "synthetic users for the runner benchmark", DefaultValueFactory = _ => 400 };
        var inFlight = new Option<int>("--max-in-flight") { Description = "requests in flight", DefaultValueFactory = _ => 64 };
        var ds = new Option<string>("--dataset") { Description = "data set kind for the template benchmark", DefaultValueFactory = _ => "movielens-latest" };
        var path = new Option<string?>("--path") { Description = "data set folder for the template benchmark (omitted: skipped)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { users, inFlight, ds, path, json })
        {
            llm.Options.Add(o);
        }

        llm.SetAction(async (r, ct) =>
        {
            var runner = await Liber.Interests.Benchmarks.RunnerBenchmark.RunAsync(r.GetValue(users), maxInFlight: r.GetValue(inFlight), cancellationToken: ct).ConfigureAwait(false);
            var inProcess = await Liber.Interests.Benchmarks.RunnerBenchmark.RunAsync(r.GetValue(users), maxInFlight: r.GetValue(inFlight), http: false, cancellationToken: ct).ConfigureAwait(false);
            var template = r.GetValue(path) is string folder
                ? await Liber.Interests.Benchmarks.RunnerBenchmark.TemplateAsync(r.GetValue(ds) ?? "movielens-latest", folder, ct).ConfigureAwait(false)
                : null;
            if (r.GetValue(json))
            {
                io.Output.WriteLine(JsonSerializer.Serialize(new { machine = Machine(), runner, runner_in_process = inProcess, template }, DataCommand.Json));
                return LiberCommand.Ok;
            }

            io.Output.WriteLine($"machine: {Machine()}");
            io.Output.WriteLine($"runner: {runner.Calls:N0} calls for {runner.Partitions:N0} partitions in {runner.Seconds} s with {runner.MaxInFlight} in flight: {runner.CallsPerSecond:N0} calls/s");
            io.Output.WriteLine($"runner alone (in-process instant client, no HTTP): {inProcess.Calls:N0} calls in {inProcess.Seconds} s: {inProcess.CallsPerSecond:N0} calls/s");
            if (template is not null)
            {
                io.Output.WriteLine($"template: {template.Dataset}: {template.Partitions:N0} partitions of {template.Events:N0} events; load {template.LoadSeconds} s, partition {template.PartitionSeconds} s, learn {template.LearnSeconds} s, total {template.TotalSeconds} s");
            }

            return LiberCommand.Ok;
        });
        return llm;
    }

    /// <summary>A one-line description of this machine.</summary>
    public static string Machine() =>
        $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    private static Dictionary<string, object> Measure(string folder)
    {
        GC.Collect();
        var sw = Stopwatch.StartNew();
        var ds = DatasetReaders.Load("movielens-1m", new DatasetRequest(folder));
        double parse = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var streams = UserStreams.Build(ds);
        double build = sw.Elapsed.TotalSeconds;
        using var me = Process.GetCurrentProcess();
        me.Refresh();
        return new Dictionary<string, object>
        {
            ["machine"] = Machine(),
            ["events"] = streams.EventCount + streams.DuplicatesDropped,
            ["file_mb"] = Math.Round(new FileInfo(Path.Combine(folder, "ratings.dat")).Length / 1e6, 1),
            ["parse_seconds"] = Math.Round(parse, 3),
            ["streams_seconds"] = Math.Round(build, 3),
            ["events_per_second"] = Math.Round(ds.Events.Count / (parse + build)),
            ["peak_working_set_mb"] = Math.Round(me.PeakWorkingSet64 / 1e6, 1),
        };
    }

    /// <summary>Writes a MovieLens-1M-shaped data set (movies.dat, ratings.dat, users.dat) with <paramref name="events"/> ratings.</summary>
    public static void WriteMl1m(string folder, int events, int seed)
    {
        Directory.CreateDirectory(folder);
        var rng = new Random(seed);
        const int items = 3900, users = 6040;
        var inv = CultureInfo.InvariantCulture;
        using (var w = new StreamWriter(Path.Combine(folder, "movies.dat"), false, Encoding.Latin1))
        {
            for (int i = 1; i <= items; i++)
            {
                w.Write(string.Create(inv, $"{i}::Movie {i} ({1920 + i % 80})::Drama|Comedy\n"));
            }
        }

        using (var w = new StreamWriter(Path.Combine(folder, "users.dat"), false, Encoding.Latin1))
        {
            for (int u = 1; u <= users; u++)
            {
                w.Write(string.Create(inv, $"{u}::{(u % 2 == 0 ? "F" : "M")}::25::{u % 21}::12345\n"));
            }
        }

        using (var w = new StreamWriter(Path.Combine(folder, "ratings.dat"), false, Encoding.ASCII, 1 << 20))
        {
            // Like ML-1M: the file is grouped by user, and about half of a user's events share the previous event's second.
            int perUser = Math.Max(1, events / users);
            long t = 956_703_932;
            for (int e = 0; e < events; e++)
            {
                int user = Math.Min(users, e / perUser + 1);
                t += rng.Next(2) == 0 ? 0 : rng.Next(1, 4000);
                w.Write(string.Create(inv, $"{user}::{rng.Next(1, items + 1)}::{rng.Next(1, 6)}::{t}\n"));
            }
        }
    }
}
