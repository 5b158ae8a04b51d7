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

namespace Liber.Cli.Tests;

/// <summary>The real <c>liber serve</c> process killed (SIGKILL) while a load runs, then started again: no acknowledged event is lost and every pending partition gets done.</summary>
[Collection(ServeProcessCollection.Name)]
public sealed partial class ServeKillRestartTests(ITestOutputHelper output) : IDisposable
{
    private const string Key = "kill-test-key";
    private static readonly string[] Data = ["--dataset", "synthetic", "--users", "12", "--events-per-user", "50", "--seed", "3"];
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-serve-kill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"listening on (http://\S+?)[ ,]")]
    private static partial Regex Listening();

    private string StoreFile => Path.Combine(_dir, "serve.db");

    private static Process Launch(IEnumerable<string> args, bool readErrors = true)
    {
        string liber = Path.Combine(AppContext.BaseDirectory, "liber.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["LIBER_API_KEY"] = Key;
        psi.ArgumentList.Add(liber);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Process child = Process.Start(psi)!;
        if (readErrors)
        {
            child.ErrorDataReceived += (_, e) => { };
            child.BeginErrorReadLine();
        }

        return child;
    }

    private static string[] ServeArgs(string store) => ["serve", "--store", store, "--urls", "http://127.0.0.1:0", "--k", "5", "--encoder", "minilm", .. Data];

    private (Process Child, HttpClient Client) Start()
    {
        Process child = Launch(ServeArgs(StoreFile));
        string? line;
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            Match m = Listening().Match(line + " ");
            if (m.Success)
            {
                _ = child.StandardOutput.BaseStream.CopyToAsync(Stream.Null); // a full log pipe would block the service
                var client = new HttpClient { BaseAddress = new Uri(m.Groups[1].Value), Timeout = TimeSpan.FromSeconds(60) };
                client.DefaultRequestHeaders.Add("X-Api-Key", Key);
                return (child, client);
            }
        }

        throw new InvalidOperationException("liber serve exited before listening");
    }

    /// <summary>Runs a liber process that must be refused: its exit code, stdout and stderr (bounded wait).</summary>
    private static async Task<(int Code, string Out, string Err)> Refused(IEnumerable<string> args)
    {
        using Process child = Launch(args, readErrors: false);
        Task<string> stdout = child.StandardOutput.ReadToEndAsync(), stderr = child.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await child.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            throw new InvalidOperationException("a second liber process on the store did not exit within 120 s (did it take the store?)");
        }

        return (child.ExitCode, await stdout, await stderr);
    }

    /// <summary>A <c>POST /v1/events</c> body of the given stream rows (event id = the row's position in its user's stream).</summary>
    internal static StringContent Body(Dataset d, UserStreams s, IEnumerable<int> rows) => new(
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

    [Fact]
    public async Task Two_processes_racing_for_one_store_one_owns_it_the_other_is_refused_and_a_killed_owner_leaves_it_usable()
    {
        Dataset data = DatasetReaders.Load("synthetic", new DatasetRequest(null, BadRowPolicy.Fail) { Synthetic = new SyntheticOptions { Users = 12, MeanEvents = 50, Seed = 3 } });
        UserStreams streams = UserStreams.Build(data);
        int[][] batches = [.. StoreFeeder.GlobalOrder(streams).Chunk(25)];

        // 1. Two serves started together on one file: exactly one listens, the other exits with rc 1 and one line.
        Process a = Launch(ServeArgs(StoreFile), readErrors: false), b = Launch(ServeArgs(StoreFile), readErrors: false);
        Task<string> aErr = a.StandardError.ReadToEndAsync(), bErr = b.StandardError.ReadToEndAsync();
        try
        {
            string?[] first = await Task.WhenAll(a.StandardOutput.ReadLineAsync(), b.StandardOutput.ReadLineAsync()).WaitAsync(TimeSpan.FromSeconds(120));
            bool aListens = first[0] is string l0 && Listening().IsMatch(l0 + " "), bListens = first[1] is string l1 && Listening().IsMatch(l1 + " ");
            Assert.True(aListens ^ bListens, $"exactly one serve must listen: '{first[0]}' / '{first[1]}'");
            (Process owner, Process loser, string ownerLine, Task<string> loserErr) = aListens ? (a, b, first[0]!, bErr) : (b, a, first[1]!, aErr);
            await loser.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(1, loser.ExitCode);
            string refusal = await loserErr;
            Assert.Single(refusal.TrimEnd().Split('\n'));
            string expected = $"liber: store {StoreFile} is in use by process {owner.Id} (liber serve, host ";
            Assert.True(refusal.StartsWith(expected, StringComparison.Ordinal), $"expected {expected}\ngot {refusal}");

            // 2. A third serve, and liber partition --store, while the owner runs: refused at once, one line naming the store and the owner.
            foreach (string[] args in new[] { ServeArgs(StoreFile), ["partition", .. Data, "--store", StoreFile] })
            {
                (int code, _, string err) = await Refused(args);
                Assert.True(code == 1, $"rc {code}: {err}");
                Assert.Single(err.TrimEnd().Split('\n'));
                Assert.True(err.StartsWith(expected, StringComparison.Ordinal), $"expected {expected}\ngot {err}");
                Assert.Contains("stop it or use another --store", err, StringComparison.Ordinal);
            }

            // 3. Events acknowledged by the owner, then SIGKILL: a new process opens the store and has every one of them.
            using var client = new HttpClient { BaseAddress = new Uri(Listening().Match(ownerLine + " ").Groups[1].Value), Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Add("X-Api-Key", Key);
            int acked = 0;
            foreach (int[] batch in batches.Take(batches.Length / 2))
            {
                HttpResponseMessage r = await client.PostAsync("/v1/events", Body(data, streams, batch));
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                acked++;
            }

            owner.Kill(entireProcessTree: true);
            await owner.WaitForExitAsync();
            (Process next, HttpClient nextClient) = Start();
            using (next)
            using (nextClient)
            {
                try
                {
                    foreach (int[] batch in batches.Take(acked))
                    {
                        JsonElement r = JsonDocument.Parse(await (await nextClient.PostAsync("/v1/events", Body(data, streams, batch))).Content.ReadAsStringAsync()).RootElement;
                        Assert.Equal(0, r.GetProperty("applied").GetInt32());
                        Assert.Equal(batch.Length, r.GetProperty("duplicates").GetInt32());
                    }
                }
                finally
                {
                    next.Kill(entireProcessTree: true);
                    await next.WaitForExitAsync();
                }
            }

            output.WriteLine($"owner pid {owner.Id}, {acked} batches acknowledged before the kill, all present after the restart");
        }
        finally
        {
            foreach (Process p in new[] { a, b })
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync();
                }

                p.Dispose();
            }
        }
    }
}

/// <summary>Tests that run real <c>liber serve</c> processes under load: one at a time, beside nothing else heavy.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServeProcessCollection
{
    public const string Name = "liber-serve-process";
}
