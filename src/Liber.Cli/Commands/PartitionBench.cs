using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Store;

namespace Liber.Cli.Commands;

/// <summary><c>liber bench partition</c>: UBSP throughput in memory and through the SQLite store, and memory per user.</summary>
public static class PartitionBench
{
    /// <summary>Creates the <c>bench partition</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("partition", "UBSP: in-memory batch partitioning (events/s, best of repeats), incremental ingestion through the SQLite store in batches with 4 in flight (group commit; events/s, full and normal durability), and engine memory per user");
        var ds = new DatasetOptions();
        ds.AddTo(cmd);
        var po = new PartitionCommand.PolicyOptions();
        po.AddTo(cmd);
        var repeats = new Option<int>("--repeats") { Description = "timed in-memory runs after one warm-up", DefaultValueFactory = _ => 5 };
        var batchSize = new Option<int>("--batch-size") { Description = "store: events per committed batch", DefaultValueFactory = _ => 1000 };
        var skipStore = new Option<bool>("--no-store") { Description = "skip the store measurements" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { repeats, batchSize, skipStore, json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r =>
        {
            (PartitionOptions options, IPartitionPolicy policy, var dataset, var streams, var features) = po.Load(r, ds);
            var result = new Dictionary<string, object>
            {
                ["machine"] = BenchCommand.Machine(),
                ["dataset"] = dataset.Source,
                ["policy"] = policy.Describe(),
                ["users"] = streams.UserCount,
                ["events"] = streams.EventCount,
            };

            // In-memory batch mode: one warm-up (JIT), then the best and median of the timed runs.
            PartitionSet.Build(streams, policy, options.Caps, features);
            var rates = new List<double>();
            for (int i = 0; i < Math.Max(1, r.GetValue(repeats)); i++)
            {
                var sw = Stopwatch.StartNew();
                PartitionSet.Build(streams, policy, options.Caps, features);
                rates.Add(streams.EventCount / sw.Elapsed.TotalSeconds);
            }

            rates.Sort();
            result["memory_events_per_second_best"] = Math.Round(rates[^1]);
            result["memory_events_per_second_median"] = Math.Round(rates[rates.Count / 2]);
            result["engine_bytes_per_user"] = Math.Round(EngineBytesPerUser(streams, policy, options.Caps, features));

            if (!r.GetValue(skipStore))
            {
                int size = r.GetValue(batchSize);
                result["store_batch_size"] = size;
                foreach (Durability d in new[] { Durability.Full, Durability.Normal })
                {
                    string file = Path.Combine(Path.GetTempPath(), $"liber-bench-{Guid.NewGuid():N}.db");
                    try
                    {
                        var sw = Stopwatch.StartNew();
                        using (var store = SqlitePartitionStore.Open(file, policy, options.Caps, features, new SqliteStoreOptions { Durability = d }))
                        {
                            StoreFeeder.FeedAsync(streams, store, size, inFlight: 4).GetAwaiter().GetResult();
                        }

                        string name = d.ToString().ToLowerInvariant();
                        result[$"store_{name}_events_per_second"] = Math.Round(streams.EventCount / sw.Elapsed.TotalSeconds);
                        result[$"store_{name}_commits_per_second"] = Math.Round(Math.Ceiling(streams.EventCount / (double)size) / sw.Elapsed.TotalSeconds);
                        result["store_file_mb"] = Math.Round(new FileInfo(file).Length / 1e6, 1);
                    }
                    finally
                    {
                        foreach (string f in new[] { file, file + "-wal", file + "-shm" })
                        {
                            File.Delete(f);
                        }
                    }
                }
            }

            if (r.GetValue(json))
            {
                io.Output.WriteLine(JsonSerializer.Serialize(result, DataCommand.Json));
            }
            else
            {
                foreach ((string k, object v) in result)
                {
                    io.Output.WriteLine($"{k}: {(v is double x ? x.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : v)}");
                }
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }

    /// <summary>Managed bytes per user held by incremental engines after the whole stream (engine, short-term cache, dictionary entry).</summary>
    private static double EngineBytesPerUser(UserStreams streams, IPartitionPolicy policy, PartitionCaps caps, ItemFeatures features)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var engines = new Dictionary<int, UserPartitioner>(streams.UserCount);
        for (int u = 0; u < streams.UserCount; u++)
        {
            var engine = new UserPartitioner(u, policy, caps, features);
            for (int row = streams.Offsets[u]; row < streams.Offsets[u + 1]; row++)
            {
                engine.Append(new PartitionEvent(streams.Positions[row], streams.Items[row], streams.Timestamps[row], streams.Ratings[row]));
            }

            engines[u] = engine;
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(engines);
        return (after - before) / (double)Math.Max(1, streams.UserCount);
    }
}
