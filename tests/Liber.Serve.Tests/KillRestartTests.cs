using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Readers;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Xunit.Abstractions;

namespace Liber.Serve.Tests;

/// <summary>The real <c>liber serve</c> process killed (SIGKILL) while a load runs, then started again: no acknowledged event is lost and every pending partition gets done.</summary>
[Collection(TorchCollection.Name)]
public sealed partial class KillRestartTests(ITestOutputHelper output) : IDisposable
{
    private const string Key = "kill-test-key";
    private static readonly string[] Data = ["--dataset", "synthetic", "--users", "12", "--events-per-user", "50", "--seed", "3"];
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-serve-kill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"listening on (http://\S+?)[ ,]")]
    private static partial Regex Listening();

    private (Process Child, HttpClient Client) Start()
    {
        string liber = Path.Combine(AppContext.BaseDirectory, "liber.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["LIBER_API_KEY"] = Key;
        foreach (string a in new[] { liber, "serve", "--store", Path.Combine(_dir, "serve.db"), "--urls", "http://127.0.0.1:0", "--k", "5", "--encoder", "minilm" }.Concat(Data))
        {
            psi.ArgumentList.Add(a);
        }

        Process child = Process.Start(psi)!;
        child.ErrorDataReceived += (_, e) => { };
        child.BeginErrorReadLine();
        string? line;
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            Match m = Listening().Match(line + " ");
            if (m.Success)
            {
                var client = new HttpClient { BaseAddress = new Uri(m.Groups[1].Value), Timeout = TimeSpan.FromSeconds(60) };
                client.DefaultRequestHeaders.Add("X-Api-Key", Key);
                return (child, client);
            }
        }

        throw new InvalidOperationException("liber serve exited before listening");
    }

    private static StringContent Body(Dataset d, UserStreams s, IEnumerable<int> rows) => new(
        JsonSerializer.Serialize(new
        {
            events = rows.Select(r => new { event_id = (long)s.Positions[r], user = d.Users.External(s.UserOfRow(r)), item = d.Items.External(s.Items[r]), timestamp = s.Timestamps[r], rating = s.Ratings[r] }).ToArray(),
        }),
        Encoding.UTF8,
        "application/json");

    /// <summary>Each of 4 workers owns a quarter of the users and sends their events in time order, in batches of 10.</summary>
    private static List<int[]>[] Plan(UserStreams s)
    {
        var lanes = new List<int[]>[4];
        for (int w = 0; w < lanes.Length; w++)
        {
            int[] rows = [.. StoreFeeder.GlobalOrder(s).Where(r => s.UserOfRow(r) % lanes.Length == w)];
            lanes[w] = [.. rows.Chunk(10)];
        }

        return lanes;
    }

    [Fact]
    public async Task A_killed_service_loses_no_acknowledged_event_and_finishes_every_pending_partition()
    {
        Dataset data = DatasetReaders.Load("synthetic", new DatasetRequest(null, BadRowPolicy.Fail) { Synthetic = new SyntheticOptions { Users = 12, MeanEvents = 50, Seed = 3 } });
        UserStreams streams = UserStreams.Build(data);
        List<int[]>[] lanes = Plan(streams);
        int totalBatches = lanes.Sum(l => l.Count);

        var clock = Stopwatch.StartNew();

        // 1. Load, and SIGKILL the process once a third of the batches are acknowledged.
        (Process child, HttpClient client) = Start();
        var acked = new ConcurrentBag<int[]>();
        using (child)
        using (client)
        {
            int killAt = totalBatches / 3, count = 0;
            var tasks = lanes.Select(lane => Task.Run(async () =>
            {
                foreach (int[] batch in lane)
                {
                    try
                    {
                        HttpResponseMessage r = await client.PostAsync("/v1/events", Body(data, streams, batch));
                        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                        acked.Add(batch);
                        if (Interlocked.Increment(ref count) == killAt)
                        {
                            child.Kill(entireProcessTree: true);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the process is gone: this batch is not acknowledged
                    }
                }
            })).ToArray();
            await Task.WhenAll(tasks);
            await child.WaitForExitAsync();
        }

        output.WriteLine($"killed after {acked.Count} of {totalBatches} acknowledged batches ({clock.Elapsed.TotalSeconds:F1} s)");
        Assert.True(acked.Count >= totalBatches / 3 && acked.Count < totalBatches, $"{acked.Count} of {totalBatches} batches acknowledged");

        // 2. Restart: every acknowledged event is already applied (the batch comes back all duplicates), then finish the load.
        (child, client) = Start();
        using (child)
        using (client)
        {
            try
            {
                foreach (int[] batch in acked)
                {
                    JsonElement r = JsonDocument.Parse(await (await client.PostAsync("/v1/events", Body(data, streams, batch))).Content.ReadAsStringAsync()).RootElement;
                    Assert.Equal(0, r.GetProperty("applied").GetInt32());
                    Assert.Equal(batch.Length, r.GetProperty("duplicates").GetInt32());
                }

                output.WriteLine($"restarted, acknowledged batches checked at {clock.Elapsed.TotalSeconds:F1} s");
                var done = new HashSet<int[]>(acked);
                foreach (List<int[]> lane in lanes)
                {
                    foreach (int[] batch in lane.Where(b => !done.Contains(b)))
                    {
                        JsonElement r = JsonDocument.Parse(await (await client.PostAsync("/v1/events", Body(data, streams, batch))).Content.ReadAsStringAsync()).RootElement;
                        Assert.Equal(0, r.GetProperty("rejected").GetArrayLength());
                    }
                }

                // 3. Every partition (closed before or after the kill) gets done, and they are the batch partitions of the data set.
                long pending = -1;
                for (int i = 0; i < 1200 && pending != 0; i++)
                {
                    await Task.Delay(100);
                    pending = JsonDocument.Parse(await client.GetStringAsync("/healthz")).RootElement.GetProperty("pending_jobs").GetInt64();
                }

                Assert.Equal(0, pending);
                output.WriteLine($"restarted, load finished and every job done at {clock.Elapsed.TotalSeconds:F1} s");
                var features = ItemFeatures.Build(data, new Cl100kTokenCounter());
                PartitionSet expected = PartitionSet.Build(streams, new CountPolicy(5), new PartitionCaps(), features);
                int partitions = 0;
                for (int u = 0; u < streams.UserCount; u++)
                {
                    JsonElement j = JsonDocument.Parse(await client.GetStringAsync($"/v1/users/{data.Users.External(u)}/interests")).RootElement;
                    Assert.Equal(streams.Length(u), j.GetProperty("events").GetInt32());
                    JsonElement[] parts = [.. j.GetProperty("partitions").EnumerateArray()];
                    Assert.Equal(expected.Of(u).Length, parts.Length);
                    Assert.All(parts, p => Assert.Equal("done", p.GetProperty("status").GetString()));
                    partitions += parts.Length;
                }

                output.WriteLine($"{streams.EventCount} events, {partitions} partitions done after the restart");
            }
            finally
            {
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync();
            }
        }
    }
}
