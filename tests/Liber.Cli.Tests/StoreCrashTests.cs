using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Liber.Core.Partitioning;
using Liber.Core.Readers;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Xunit.Abstractions;

namespace Liber.Cli.Tests;

/// <summary>The UBSP store survives a process killed mid-batch: the kill test the store's contract names.</summary>
public sealed partial class StoreCrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-crash-").FullName;

    private static readonly string[] Data = ["--dataset", "synthetic", "--users", "300", "--events-per-user", "120", "--seed", "9"];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"^store: batch (\d+) committed: (\d+) events offered")]
    private static partial Regex Ack();

    /// <summary>Starts <c>liber partition --store</c> in a child process and kills it after <paramref name="acks"/> committed batches; returns the events acknowledged.</summary>
    private long RunAndKill(string store, int acks)
    {
        string liber = Path.Combine(AppContext.BaseDirectory, "liber.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { liber, "partition" }.Concat(Data).Concat(["--store", store, "--batch-size", "97", "--progress", "--json"]))
        {
            psi.ArgumentList.Add(a);
        }

        using Process child = Process.Start(psi)!;
        long acked = 0;
        int seen = 0;
        string? line;
        while ((line = child.StandardError.ReadLine()) is not null)
        {
            Match m = Ack().Match(line);
            Assert.True(m.Success, $"unexpected stderr line: {line}");
            acked = long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (++seen == acks)
            {
                child.Kill(entireProcessTree: true);
                break;
            }
        }

        child.WaitForExit();
        Assert.True(seen == acks, $"the child finished after {seen} batches, before it could be killed");
        output.WriteLine($"killed after {seen} acknowledged batches ({acked} events)");
        return acked;
    }

    [Fact]
    public void A_killed_ingest_loses_no_acknowledged_event_leaves_no_half_partition_and_resumes_to_the_batch_result()
    {
        string store = Path.Combine(_dir, "ubsp.db");
        var dataset = DatasetReaders.Load("synthetic", new DatasetRequest(null, Core.Data.BadRowPolicy.Fail) { Synthetic = new SyntheticOptions { Users = 300, MeanEvents = 120, Seed = 9 } });
        UserStreams streams = UserStreams.Build(dataset);
        ItemFeatures features = ItemFeatures.Build(dataset, new Cl100kTokenCounter());
        int[] order = StoreFeeder.GlobalOrder(streams);
        var policy = new CountPolicy(20);

        foreach (int acks in new[] { 4, 70 })
        {
            long acked = RunAndKill(store, acks);
            using var s = SqlitePartitionStore.Open(store, policy, new PartitionCaps(), features);
            Assert.Empty(s.Verify());
            for (int k = 0; k < acked; k++)
            {
                Assert.True(s.IsApplied(streams.Positions[order[k]]), $"acknowledged event {k} of the feed is missing after the kill");
            }

            output.WriteLine($"store holds {s.Totals().EventsApplied} events, replayed {s.Replayed} from the log");
        }

        var (code, json, error) = CliRunner.Run(["partition", .. Data, "--store", store, "--json"]);
        Assert.True(code == 0, error);
        var (batchCode, batchJson, _) = CliRunner.Run(["partition", .. Data, "--json"]);
        Assert.Equal(0, batchCode);
        JsonElement resumed = JsonDocument.Parse(json).RootElement, batch = JsonDocument.Parse(batchJson).RootElement;
        foreach (string key in new[] { "users", "events", "partitions", "events_in_partitions", "events_in_caches" })
        {
            Assert.Equal(batch.GetProperty(key).GetInt64(), resumed.GetProperty(key).GetInt64());
        }

        JsonElement st = resumed.GetProperty("store");
        Assert.Equal(streams.EventCount, st.GetProperty("applied").GetInt64() + st.GetProperty("duplicates").GetInt64());
        Assert.True(st.GetProperty("duplicates").GetInt64() > 0);

        using var final = SqlitePartitionStore.Open(store, policy, new PartitionCaps(), features);
        PartitionSet expected = PartitionSet.Build(streams, policy, new PartitionCaps(), features);
        Assert.Equal(expected.All.Select(p => (p.User, p.Number, p.Start, p.End, p.ContentHash)), final.AllPartitions().Select(p => (p.User, p.Number, p.Start, p.End, p.ContentHash)));
        Assert.Empty(final.Verify());
    }
}
