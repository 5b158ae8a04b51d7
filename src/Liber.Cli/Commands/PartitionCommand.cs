using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Core.Streams;

namespace Liber.Cli.Commands;

/// <summary><c>liber partition</c>: UBSP over a whole data set in batch mode.</summary>
public static class PartitionCommand
{
    /// <summary>The policy options shared by verbs that partition.</summary>
    public sealed class PolicyOptions
    {
        /// <summary>--policy.</summary>
        public Option<string> Policy { get; } = new("--policy") { Description = "partition policy: count, gap, window or drift", DefaultValueFactory = _ => "count" };

        /// <summary>--k.</summary>
        public Option<int> K { get; } = new("--k") { Description = "count: events per partition", DefaultValueFactory = _ => 20 };

        /// <summary>--gap-seconds.</summary>
        public Option<long> Gap { get; } = new("--gap-seconds") { Description = "gap: close when the next event is more than this many seconds after the last", DefaultValueFactory = _ => 3600 };

        /// <summary>--period.</summary>
        public Option<CalendarPeriod> Period { get; } = new("--period") { Description = "window: day, week or month", DefaultValueFactory = _ => CalendarPeriod.Week };

        /// <summary>--time-zone.</summary>
        public Option<string> TimeZone { get; } = new("--time-zone") { Description = "window: IANA time zone", DefaultValueFactory = _ => "UTC" };

        /// <summary>--drift-window.</summary>
        public Option<int> DriftWindow { get; } = new("--drift-window") { Description = "drift: recent events compared with the rest of the cache (also the minimum partition size)", DefaultValueFactory = _ => 10 };

        /// <summary>--drift-threshold.</summary>
        public Option<double> DriftThreshold { get; } = new("--drift-threshold") { Description = "drift: Jensen-Shannon divergence (base 2) that closes the cache", DefaultValueFactory = _ => 0.15 };

        /// <summary>--max-events.</summary>
        public Option<int> MaxEvents { get; } = new("--max-events") { Description = "hard cap: events per partition", DefaultValueFactory = _ => 100 };

        /// <summary>--max-prompt-tokens.</summary>
        public Option<int> MaxTokens { get; } = new("--max-prompt-tokens") { Description = "hard cap: cl100k_base tokens of rendered items per partition", DefaultValueFactory = _ => 4000 };

        /// <summary>Adds the options to a command.</summary>
        public void AddTo(Command c)
        {
            Policy.AcceptOnlyFromAmong([.. PartitionPolicies.Names]);
            foreach (Option o in new Option[] { Policy, K, Gap, Period, TimeZone, DriftWindow, DriftThreshold, MaxEvents, MaxTokens })
            {
                c.Options.Add(o);
            }
        }

        /// <summary>The typed options of a parse.</summary>
        public PartitionOptions Read(ParseResult r) => new()
        {
            Policy = r.GetValue(Policy) ?? "count",
            K = r.GetValue(K),
            GapSeconds = r.GetValue(Gap),
            Period = r.GetValue(Period),
            TimeZone = r.GetValue(TimeZone) ?? "UTC",
            DriftWindow = r.GetValue(DriftWindow),
            DriftThreshold = r.GetValue(DriftThreshold),
            Caps = new PartitionCaps { MaxEvents = r.GetValue(MaxEvents), MaxPromptTokens = r.GetValue(MaxTokens) },
        };
    }

    /// <summary>Creates the <c>partition</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("partition", "UBSP: partition every user's stream into immutable long-term partitions and print statistics");
        var ds = new DatasetOptions();
        ds.AddTo(cmd);
        var po = new PolicyOptions();
        po.AddTo(cmd);
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        cmd.Options.Add(json);
        cmd.SetAction(r =>
        {
            PartitionOptions options = po.Read(r);
            IPartitionPolicy policy = PartitionPolicies.Create(options);
            var dataset = ds.Load(r);
            var streams = UserStreams.Build(dataset);
            var features = ItemFeatures.Build(dataset, new Cl100kTokenCounter());
            var sw = Stopwatch.StartNew();
            var set = PartitionSet.Build(streams, policy, options.Caps, features);
            double seconds = sw.Elapsed.TotalSeconds;
            var summary = PartitionSummary.Of(streams, set, seconds);
            if (r.GetValue(json))
            {
                io.Output.WriteLine(JsonSerializer.Serialize(summary, DataCommand.Json));
            }
            else
            {
                io.Output.WriteLine($"policy {summary.Policy}: {summary.Partitions:N0} partitions over {summary.Users:N0} users and {summary.Events:N0} events in {seconds:F2} s");
                io.Output.WriteLine($"events in partitions {summary.EventsInPartitions:N0}, still in caches {summary.EventsInCaches:N0}");
                io.Output.WriteLine($"partition size min/median/max {summary.PartitionSize.Min}/{summary.PartitionSize.Median}/{summary.PartitionSize.Max}; partitions per user {summary.PartitionsPerUser.Min}/{summary.PartitionsPerUser.Median}/{summary.PartitionsPerUser.Max}");
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }
}

/// <summary>What <c>liber partition --json</c> prints.</summary>
public sealed record PartitionSummary
{
    /// <summary>Policy and options.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("policy")] public required string Policy { get; init; }

    /// <summary>Users.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("users")] public int Users { get; init; }

    /// <summary>Events.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("events")] public int Events { get; init; }

    /// <summary>Closed partitions.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("partitions")] public int Partitions { get; init; }

    /// <summary>Events inside closed partitions.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("events_in_partitions")] public long EventsInPartitions { get; init; }

    /// <summary>Events still in short-term caches.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("events_in_caches")] public long EventsInCaches { get; init; }

    /// <summary>Events per partition.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("partition_size")] public required Spread PartitionSize { get; init; }

    /// <summary>Partitions per user.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("partitions_per_user")] public required Spread PartitionsPerUser { get; init; }

    /// <summary>Wall time of partitioning (not loading).</summary>
    [System.Text.Json.Serialization.JsonPropertyName("seconds")] public double Seconds { get; init; }

    /// <summary>Summarises a partition set.</summary>
    public static PartitionSummary Of(UserStreams streams, PartitionSet set, double seconds) => new()
    {
        Policy = set.Policy,
        Users = streams.UserCount,
        Events = streams.EventCount,
        Partitions = set.Count,
        EventsInPartitions = set.All.Sum(p => (long)p.Count),
        EventsInCaches = set.CacheSizes.Sum(c => (long)c),
        PartitionSize = Spread.Of(set.All.Select(p => p.Count).ToArray()),
        PartitionsPerUser = Spread.Of(Enumerable.Range(0, set.UserCount).Select(u => set.Of(u).Length).ToArray()),
        Seconds = Math.Round(seconds, 4),
    };
}
