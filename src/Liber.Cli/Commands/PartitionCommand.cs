using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Store;

namespace Liber.Cli.Commands;

/// <summary><c>liber partition</c>: UBSP over a whole data set in batch mode.</summary>
public static class PartitionCommand
{
    /// <summary>The policy options shared by verbs that partition.</summary>
    public sealed class PolicyOptions
    {
        // Every default is the library's (PartitionOptions, PartitionCaps): one place for each.
        private static readonly PartitionOptions D = new();

        /// <summary>--policy.</summary>
        public Option<string> Policy { get; } = new("--policy") { Description = "partition policy: count, gap, window or drift", DefaultValueFactory = _ => D.Policy };

        /// <summary>--k.</summary>
        public Option<int> K { get; } = new("--k") { Description = "count: events per partition", DefaultValueFactory = _ => D.K };

        /// <summary>--gap-seconds.</summary>
        public Option<long> Gap { get; } = new("--gap-seconds") { Description = "gap: close when the next event is more than this many seconds after the last", DefaultValueFactory = _ => D.GapSeconds };

        /// <summary>--period.</summary>
        public Option<CalendarPeriod> Period { get; } = new("--period") { Description = "window: day, week or month", DefaultValueFactory = _ => D.Period };

        /// <summary>--time-zone.</summary>
        public Option<string> TimeZone { get; } = new("--time-zone") { Description = "window: IANA time zone", DefaultValueFactory = _ => D.TimeZone };

        /// <summary>--drift-window.</summary>
        public Option<int> DriftWindow { get; } = new("--drift-window") { Description = "drift: recent events compared with the rest of the cache (also the minimum partition size)", DefaultValueFactory = _ => D.DriftWindow };

        /// <summary>--drift-threshold.</summary>
        public Option<double> DriftThreshold { get; } = new("--drift-threshold") { Description = "drift: Jensen-Shannon divergence (base 2) that closes the cache", DefaultValueFactory = _ => D.DriftThreshold };

        /// <summary>--max-events.</summary>
        public Option<int> MaxEvents { get; } = new("--max-events") { Description = "hard cap: events per partition", DefaultValueFactory = _ => D.Caps.MaxEvents };

        /// <summary>--max-prompt-tokens.</summary>
        public Option<int> MaxTokens { get; } = new("--max-prompt-tokens") { Description = "hard cap: cl100k_base tokens of rendered items per partition", DefaultValueFactory = _ => D.Caps.MaxPromptTokens };

        /// <summary>Adds the options to a command.</summary>
        public void AddTo(Command c)
        {
            Policy.AcceptOnlyFromAmong([.. PartitionPolicies.Names]);
            foreach (Option o in new Option[] { Policy, K, Gap, Period, TimeZone, DriftWindow, DriftThreshold, MaxEvents, MaxTokens })
            {
                c.Options.Add(o);
            }
        }

        /// <summary>Checks the policy flags of a parse (the chosen policy's parameters and the caps) before any work.</summary>
        public void Validate(ParseResult r)
        {
            ArgumentNullException.ThrowIfNull(r);
            switch (r.GetValue(Policy))
            {
                case "count":
                    FlagChecks.AtLeast(r, K, 1, "the count policy's k");
                    break;
                case "gap":
                    FlagChecks.AtLeast(r, Gap, 0, "the gap policy's gap");
                    break;
                case "window":
                    string zone = r.GetValue(TimeZone) ?? "UTC";
                    if (!System.TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
                    {
                        throw new ArgumentException($"{TimeZone.Name} {zone}: not a known IANA time zone; give one such as UTC or Europe/Paris");
                    }

                    break;
                case "drift":
                    FlagChecks.AtLeast(r, DriftWindow, 1, "the drift policy's window");
                    FlagChecks.InRange(r, DriftThreshold, 0, 1, minOpen: true, maxOpen: true);
                    break;
            }

            FlagChecks.AtLeast(r, MaxEvents, 1, "the cap on events per partition");
            FlagChecks.AtLeast(r, MaxTokens, 1, "the cap on prompt tokens per partition");
        }

        /// <summary>Loads what partitioning a data set needs: its options and policy, the data set, its streams and item features.</summary>
        public PartitionInputs Load(ParseResult r, DatasetOptions ds)
        {
            Validate(r);
            PartitionOptions options = Read(r);
            IPartitionPolicy policy = PartitionPolicies.Create(options);
            var dataset = ds.Load(r);
            return new PartitionInputs(options, policy, dataset, UserStreams.Build(dataset), ItemFeatures.Build(dataset, new Cl100kTokenCounter()));
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
        var store = new Option<string?>("--store") { Description = "persist through the SQLite UBSP store at this file: events are replayed in global time order in batches, idempotent by event id (a rerun applies only what is missing)" };
        var batchSize = new Option<int>("--batch-size") { Description = "--store: events per committed batch", DefaultValueFactory = _ => 1000 };
        var lateEvents = new Option<string>("--late-events") { Description = "--store: an event older than its user's last one is rejected (reject) or inserted into the cache if the cache still spans its time (insert)", DefaultValueFactory = _ => "reject" };
        var durability = new Option<string>("--durability") { Description = "--store: full (fsync every commit) or normal (WAL, may lose the last commits on power loss)", DefaultValueFactory = _ => "full" };
        var progress = new Option<bool>("--progress") { Description = "--store: print a line to stderr after every committed batch" };
        var inFlight = new Option<int>("--in-flight") { Description = "--store: batches in flight (the store commits those waiting together: group commit)", DefaultValueFactory = _ => 4 };
        lateEvents.AcceptOnlyFromAmong("reject", "insert");
        durability.AcceptOnlyFromAmong("full", "normal");
        foreach (Option o in new Option[] { json, store, batchSize, lateEvents, durability, progress, inFlight })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r =>
        {
            (PartitionOptions options, IPartitionPolicy policy, var dataset, var streams, var features) = po.Load(r, ds);
            var sw = Stopwatch.StartNew();
            PartitionSummary summary;
            if (r.GetValue(store) is string storePath)
            {
                var storeOptions = new SqliteStoreOptions
                {
                    LateEvents = r.GetValue(lateEvents) == "insert" ? LateEventRule.InsertIfCacheSpans : LateEventRule.Reject,
                    Durability = r.GetValue(durability) == "normal" ? Durability.Normal : Durability.Full,
                };
                using SqlitePartitionStore s = SqlitePartitionStore.Open(storePath, policy, options.Caps, features, storeOptions);
                bool verbose = r.GetValue(progress);
                FeedProgress fed = StoreFeeder.FeedAsync(streams, s, r.GetValue(batchSize), r.GetValue(inFlight), p =>
                {
                    if (verbose)
                    {
                        io.Error.WriteLine($"store: batch {p.Batches} committed: {p.Events} events offered, {p.Applied} applied, {p.Duplicates} duplicates, {p.Conflicts} conflicts, {p.Rejected} rejected, {p.Closed} partitions closed");
                        io.Error.Flush();
                    }
                }).GetAwaiter().GetResult();
                double seconds = sw.Elapsed.TotalSeconds;
                summary = PartitionSummary.Of(streams, StoreFeeder.ToPartitionSet(s, streams.UserCount), seconds) with
                {
                    Store = new StoreSummary
                    {
                        Path = s.Path,
                        BatchSize = r.GetValue(batchSize),
                        Applied = fed.Applied,
                        Duplicates = fed.Duplicates,
                        Conflicts = fed.Conflicts,
                        Rejected = fed.Rejected,
                        EventsPerSecond = Math.Round(fed.Events / Math.Max(seconds, 1e-9)),
                    },
                };
            }
            else
            {
                var set = PartitionSet.Build(streams, policy, options.Caps, features);
                summary = PartitionSummary.Of(streams, set, sw.Elapsed.TotalSeconds);
            }

            double elapsed = summary.Seconds;
            if (r.GetValue(json))
            {
                io.Output.WriteLine(JsonSerializer.Serialize(summary, DataCommand.Json));
            }
            else
            {
                io.Output.WriteLine($"policy {summary.Policy}: {summary.Partitions:N0} partitions over {summary.Users:N0} users and {summary.Events:N0} events in {elapsed:F2} s");
                io.Output.WriteLine($"events in partitions {summary.EventsInPartitions:N0}, still in caches {summary.EventsInCaches:N0}");
                if (summary.Store is { } st)
                {
                    io.Output.WriteLine($"store {st.Path}: {st.Applied:N0} applied, {st.Duplicates:N0} duplicates, {st.Conflicts:N0} conflicts, {st.Rejected:N0} rejected, {st.EventsPerSecond:N0} events/s in batches of {st.BatchSize}");
                }

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

    /// <summary>The store run, when <c>--store</c> was given.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("store")]
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public StoreSummary? Store { get; init; }

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

/// <summary>What <c>liber partition --store</c> adds to its JSON.</summary>
public sealed record StoreSummary
{
    /// <summary>The store file.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("path")] public required string Path { get; init; }

    /// <summary>Events per committed batch.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("batch_size")] public int BatchSize { get; init; }

    /// <summary>Events applied by this run.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("applied")] public long Applied { get; init; }

    /// <summary>Events this run found already applied.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("duplicates")] public long Duplicates { get; init; }

    /// <summary>Events whose id was already applied with other content (never applied).</summary>
    [System.Text.Json.Serialization.JsonPropertyName("conflicts")] public long Conflicts { get; init; }

    /// <summary>Events rejected.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("rejected")] public long Rejected { get; init; }

    /// <summary>Events offered per second of wall time, including commits.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("events_per_second")] public double EventsPerSecond { get; init; }
}

/// <summary>What partitioning a loaded data set needs.</summary>
/// <param name="Options">Policy options and caps.</param>
/// <param name="Policy">The policy.</param>
/// <param name="Dataset">The data set.</param>
/// <param name="Streams">Its user streams.</param>
/// <param name="Features">Item categories and cl100k_base token counts.</param>
public sealed record PartitionInputs(PartitionOptions Options, IPartitionPolicy Policy, Liber.Core.Data.Dataset Dataset, UserStreams Streams, ItemFeatures Features);
