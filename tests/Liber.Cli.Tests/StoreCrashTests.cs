using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Liber.Core.Partitioning;
using Liber.Core.Readers;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Store;
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

    private static void OneLine(int code, string error, string expected)
    {
        Assert.True(code == 1, $"rc {code}: {error}");
        string[] lines = error.TrimEnd().Split('\n');
        Assert.True(lines.Length == 1, $"more than one line: {error}");
        Assert.True(lines[0].Contains(expected, StringComparison.Ordinal), $"expected {expected}\n got {lines[0]}");
        Assert.DoesNotContain("internal error", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_store_flag_on_a_file_that_is_not_a_store_or_on_a_store_in_use_is_one_line_and_rc_1()
    {
        string notes = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(notes, "not a database, just notes\n" + new string('-', 4000));
        var (code, _, error) = CliRunner.Run(["partition", .. Data, "--store", notes]);
        OneLine(code, error, $"liber: store {notes} is not a Liber store (not an SQLite database): give a new file name or an existing store");

        string busy = Path.Combine(_dir, "busy.db");
        using (SqlitePartitionStore.OpenServing(busy, new CountPolicy(20), new PartitionCaps(), new Cl100kTokenCounter()))
        {
            (code, _, error) = CliRunner.Run(["partition", .. Data, "--store", busy]);
            OneLine(code, error, $"liber: store {busy} is in use by this process");
            (code, string info, error) = CliRunner.Run(["store", "info", "--store", busy, "--json"]);
            Assert.True(code == 0, error);
            Assert.StartsWith($"process {Environment.ProcessId} (", JsonDocument.Parse(info).RootElement.GetProperty("owner").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_store_that_does_not_recover_says_how_to_rebuild_and_liber_store_rebuild_does_it()
    {
        string broken = Path.Combine(_dir, "broken.db"), rebuilt = Path.Combine(_dir, "rebuilt.db");
        using (SqlitePartitionStore s = SqlitePartitionStore.OpenServing(broken, new CountPolicy(5), new PartitionCaps(), new Cl100kTokenCounter()))
        {
            await s.AppendAsync([.. Enumerable.Range(0, 12).Select(i => new ExternalEvent(i, "u-42", $"item{i % 3}", 1_700_000_000 + i, 4))]);
        }

        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={broken};Pooling=False"))
        {
            db.Open();
            using var c = db.CreateCommand();
            c.CommandText = "INSERT INTO log(event_id, user, item, ts, rating, late) VALUES (31, 0, 1, 1600000000, 4, 0)";
            c.ExecuteNonQuery();
        }

        var (code, _, error) = CliRunner.Run(["serve", "--store", broken, "--k", "5", "--urls", "http://127.0.0.1:0", "--insecure-no-auth"]);
        OneLine(code, error, $"liber: store {broken} cannot be recovered: replaying its event log, event 31 of user 'u-42' at 1600000000 is older than that user's previous logged event at 1700000011");
        Assert.Contains($"liber store rebuild --from {broken} --to NEW.db", error, StringComparison.Ordinal);

        (code, string text, error) = CliRunner.Run(["store", "info", "--store", broken]);
        Assert.True(code == 0, error);
        Assert.Contains("1 users, 13 events, 2 partitions, 3 catalog items; interest jobs 2 pending, 0 failed", text, StringComparison.Ordinal);
        Assert.Contains("not in use", text, StringComparison.Ordinal);

        (code, string json, error) = CliRunner.Run(["store", "rebuild", "--from", broken, "--to", rebuilt, "--json"]);
        Assert.True(code == 0, error);
        JsonElement r = JsonDocument.Parse(json).RootElement;
        Assert.Equal((13, 12, 0, 1, 2), (r.GetProperty("logged").GetInt32(), r.GetProperty("applied").GetInt32(), r.GetProperty("conflicts").GetInt32(), r.GetProperty("rejected").GetInt32(), r.GetProperty("partitions").GetInt32()));
        Assert.Contains("event 31 of user 'u-42' at 1600000000", r.GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run(["store", "rebuild", "--from", broken, "--to", rebuilt]);
        OneLine(code, error, $"--to {rebuilt} exists: give a new file name");
        using SqlitePartitionStore back = SqlitePartitionStore.OpenServing(rebuilt, new CountPolicy(5), new PartitionCaps(), new Cl100kTokenCounter());
        Assert.Equal(0, back.FindUser("u-42"));
        Assert.Equal(2, back.Partitions(0).Count);
        Assert.Empty(back.Verify());
    }
}
