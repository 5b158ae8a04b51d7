using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Readers;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Npgsql;
using Xunit.Abstractions;

namespace Liber.Cli.Tests;

/// <summary>A fact that needs the cluster's PostgreSQL (<c>LIBER_CLUSTER_PG</c>, set by .ci/run from build/cluster-db.sh); skipped, saying how to run it, without.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ClusterFactAttribute : FactAttribute
{
    public const string Variable = "LIBER_CLUSTER_PG";

    public ClusterFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable)))
        {
            Skip = $"{Variable} is not set: run `export {Variable}=\"$(bash build/cluster-db.sh | tail -n 1)\"` (installs and starts PostgreSQL, applies Orleans' schema)";
        }
    }
}

/// <summary>
/// <c>liber serve --cluster</c> for real: 3 silo processes on loopback ports over PostgreSQL, a load sent through all of
/// them, one silo SIGKILLed mid-load and started again. Liber's tables live in a scratch schema (Orleans' in public), and
/// the cluster and service ids are fresh, so runs never see each other's rows.
/// </summary>
[Collection(ServeProcessCollection.Name)]
public sealed partial class ClusterServeTests(ITestOutputHelper output) : IDisposable
{
    private const string Key = "cluster-test-key";
    // CI runs a small load; LIBER_CLUSTER_TEST_LOAD=users,events-per-user,k,batch,job-lease-seconds runs the same test at
    // any size (the 200K-event run of docs/cluster.md: 2000,100,20,100,120; a round of UIL and encoder work must fit in the lease).
    private static readonly int[] Load = (Environment.GetEnvironmentVariable("LIBER_CLUSTER_TEST_LOAD") ?? "30,60,5,10,10").Split(',').Select(int.Parse).ToArray();
    private static readonly int Users = Load[0], EventsPerUser = Load[1], K = Load[2], BatchSize = Load[3], LeaseSeconds = Load[4];
    private static readonly string[] Data = ["--dataset", "synthetic", "--users", $"{Users}", "--events-per-user", $"{EventsPerUser}", "--seed", "5"];
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-cluster-").FullName;
    private readonly string _schema = "liber_c_" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<Process> _children = [];

    [GeneratedRegex(@"listening on (http://\S+?)[ ,]")]
    private static partial Regex Listening();

    private static string Admin => Environment.GetEnvironmentVariable(ClusterFactAttribute.Variable)!;

    public void Dispose()
    {
        foreach (Process p in _children)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
            }

            p.Dispose();
        }

        NpgsqlConnection.ClearAllPools();
        Execute($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
        Directory.Delete(_dir, recursive: true);
    }

    private static void Execute(string sql)
    {
        using var db = new NpgsqlConnection(Admin);
        db.Open();
        using var c = new NpgsqlCommand(sql, db);
        c.ExecuteNonQuery();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Writes the cluster file (the database with the scratch schema first on the search path) and returns its path.</summary>
    private string ClusterFile()
    {
        string id = "t" + Guid.NewGuid().ToString("N")[..10];
        string pg = new NpgsqlConnectionStringBuilder(Admin) { SearchPath = $"{_schema},public" }.ConnectionString;
        string path = Path.Combine(_dir, "cluster.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object> { ["postgres"] = pg, ["cluster_id"] = id, ["service_id"] = id }));
        return path;
    }

    private Process Launch(IEnumerable<string> args)
    {
        string liber = Path.Combine(AppContext.BaseDirectory, "liber.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["LIBER_API_KEY"] = Key;
        psi.Environment.Remove(ClusterFactAttribute.Variable); // the cluster file names the database
        psi.ArgumentList.Add(liber);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Process child = Process.Start(psi)!;
        child.ErrorDataReceived += (_, _) => { };
        child.BeginErrorReadLine();
        _children.Add(child);
        return child;
    }

    /// <summary>Starts a silo and waits until it listens; its HTTP client.</summary>
    private async Task<(Process Child, HttpClient Client)> StartSilo(string clusterFile, (int Silo, int Gateway, int Http) ports)
    {
        Process child = Launch([
            "serve", "--cluster", clusterFile, "--silo-port", $"{ports.Silo}", "--gateway-port", $"{ports.Gateway}",
            "--store", Path.Combine(_dir, $"silo-{ports.Silo}"), "--urls", $"http://127.0.0.1:{ports.Http}", "--job-lease", $"{LeaseSeconds}", "--k", $"{K}", "--encoder", "minilm", .. Data]);
        return (child, await Listens(child));
    }

    [ClusterFact]
    public async Task Three_silo_processes_one_killed_mid_load_lose_no_acknowledged_event_and_do_every_partition_as_the_offline_chain()
    {
        Execute($"CREATE SCHEMA {_schema}");
        Dataset data = DatasetReaders.Load("synthetic", new DatasetRequest(null, BadRowPolicy.Fail) { Synthetic = new SyntheticOptions { Users = Users, MeanEvents = EventsPerUser, Seed = 5 } });
        UserStreams streams = UserStreams.Build(data);

        // 6 lanes, each owning a sixth of the users in time order, in batches of BatchSize; lane w sends through silo w % 3.
        var lanes = new List<int[]>[6];
        for (int w = 0; w < lanes.Length; w++)
        {
            lanes[w] = [.. StoreFeeder.GlobalOrder(streams).Where(r => streams.UserOfRow(r) % lanes.Length == w).Chunk(BatchSize)];
        }

        int totalBatches = lanes.Sum(l => l.Count);
        string file = ClusterFile();
        var ports = Enumerable.Range(0, 3).Select(_ => (Silo: FreePort(), Gateway: FreePort(), Http: FreePort())).ToArray();
        var clock = Stopwatch.StartNew();
        var silos = new (Process Child, HttpClient Client)[3];
        silos[0] = await StartSilo(file, ports[0]); // the first silo creates Liber's tables; the others join
        (silos[1], silos[2]) = (await StartSilo(file, ports[1]), await StartSilo(file, ports[2]));
        output.WriteLine($"3 silos listening after {clock.Elapsed.TotalSeconds:F1} s");

        // 1. Load through all three; SIGKILL silo 1 once a third of the batches are acknowledged. A lane stops at its first
        //    unacknowledged batch (the killed silo's lanes, and any lane whose users lived on it until they move).
        var acked = new ConcurrentDictionary<int[], bool>();
        int killAt = totalBatches / 3, count = 0;
        var tasks = lanes.Select((lane, w) => Task.Run(async () =>
        {
            foreach (int[] batch in lane)
            {
                try
                {
                    HttpResponseMessage r = await silos[w % 3].Client.PostAsync("/v1/events", ServeKillRestartTests.Body(data, streams, batch));
                    if (r.StatusCode != HttpStatusCode.OK)
                    {
                        Assert.True(r.StatusCode == HttpStatusCode.ServiceUnavailable, $"lane {w}: {r.StatusCode} {await r.Content.ReadAsStringAsync()}");
                        return;
                    }

                    JsonElement j = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
                    Assert.Equal(0, j.GetProperty("rejected").GetArrayLength());
                    acked[batch] = true;
                    if (Interlocked.Increment(ref count) == killAt)
                    {
                        silos[1].Child.Kill(entireProcessTree: true);
                    }
                }
                catch (HttpRequestException)
                {
                    return; // the silo is gone: not acknowledged
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        await silos[1].Child.WaitForExitAsync();
        output.WriteLine($"silo 1 killed; {acked.Count} of {totalBatches} batches acknowledged at {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(acked.Count >= killAt && acked.Count < totalBatches, $"{acked.Count} of {totalBatches} batches acknowledged");

        // 2. Restart silo 1 on its ports. Every acknowledged batch sent again through another silo than before is all
        //    duplicates (a silo can answer 503 while the killed silo's users move: retry).
        silos[1] = await StartSilo(file, ports[1]);
        output.WriteLine($"silo 1 restarted at {clock.Elapsed.TotalSeconds:F1} s");
        async Task<JsonElement> Send(HttpClient client, int[] batch)
        {
            for (int attempt = 0; ; attempt++)
            {
                HttpResponseMessage r = await client.PostAsync("/v1/events", ServeKillRestartTests.Body(data, streams, batch));
                if (r.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 60)
                {
                    await Task.Delay(1000);
                    continue;
                }

                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            }
        }

        for (int w = 0; w < lanes.Length; w++)
        {
            foreach (int[] batch in lanes[w].Where(acked.ContainsKey))
            {
                JsonElement r = await Send(silos[(w + 1) % 3].Client, batch);
                Assert.Equal(0, r.GetProperty("applied").GetInt32());
                Assert.Equal(batch.Length, r.GetProperty("duplicates").GetInt32());
            }
        }

        // 3. Finish the load (each lane's unacknowledged batches in order, through any silo), then wait for every job.
        for (int w = 0; w < lanes.Length; w++)
        {
            foreach (int[] batch in lanes[w].Where(b => !acked.ContainsKey(b)))
            {
                JsonElement r = await Send(silos[w % 3].Client, batch);
                Assert.Equal(0, r.GetProperty("rejected").GetArrayLength());
                Assert.Equal(batch.Length, r.GetProperty("applied").GetInt32() + r.GetProperty("duplicates").GetInt32());
            }
        }

        long pending = -1;
        for (int i = 0; i < 1800 + (streams.EventCount / 10) && pending != 0; i++)
        {
            await Task.Delay(100);
            pending = JsonDocument.Parse(await silos[i % 3].Client.GetStringAsync("/healthz")).RootElement.GetProperty("pending_jobs").GetInt64();
        }

        Assert.Equal(0, pending);
        output.WriteLine($"load finished and every job done at {clock.Elapsed.TotalSeconds:F1} s");

        // 4. Every silo answers the same for every user: all events applied once, the batch partitions of the data set,
        //    every partition done with the texts the offline chain (liber learn) writes for it.
        (int code, string learnOut, string learnErr) = CliRunner.Run(["learn", .. Data, "--k", $"{K}", "--out", Path.Combine(_dir, "texts.jsonl")]);
        Assert.True(code == 0, learnOut + learnErr);
        var offline = File.ReadLines(Path.Combine(_dir, "texts.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(j => (j.GetProperty("user").GetString()!, j.GetProperty("number").GetInt32()), j => (Summary: j.GetProperty("summary").GetString(), Shift: j.GetProperty("shift").GetString()));
        PartitionSet expected = PartitionSet.Build(streams, new CountPolicy(K), new PartitionCaps(), ItemFeatures.Build(data, new Cl100kTokenCounter()));
        int partitions = 0;
        for (int u = 0; u < streams.UserCount; u++)
        {
            string user = data.Users.External(u);
            string[] answers = await Task.WhenAll(silos.Select(s => s.Client.GetStringAsync($"/v1/users/{user}/interests")));
            Assert.All(answers, a => Assert.Equal(answers[0], a));
            JsonElement j = JsonDocument.Parse(answers[0]).RootElement;
            Assert.Equal(streams.Length(u), j.GetProperty("events").GetInt32());
            JsonElement[] parts = [.. j.GetProperty("partitions").EnumerateArray()];
            Partition[] want = expected.Of(u).ToArray();
            Assert.Equal(want.Length, parts.Length);
            for (int p = 0; p < parts.Length; p++)
            {
                Assert.Equal("done", parts[p].GetProperty("status").GetString());
                Assert.Equal(want[p].Start, parts[p].GetProperty("first_event").GetInt32());
                Assert.Equal(want[p].End, parts[p].GetProperty("last_event").GetInt32());
                (string? summary, string? shift) = offline[(user, p)];
                Assert.Equal(summary, parts[p].GetProperty("summary").GetString());
                Assert.Equal(shift, parts[p].GetProperty("shift").GetString());
            }

            partitions += parts.Length;
        }

        Assert.True(partitions > 0);

        // 5. The shared statistics counted every event exactly once, across the kill: per user, per item and in all.
        using (var db = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Admin) { SearchPath = _schema }.ConnectionString))
        {
            db.Open();
            var counted = new Dictionary<string, long>(StringComparer.Ordinal);
            using (var q = new NpgsqlCommand("SELECT user_ext, events FROM liber_stats_users UNION ALL SELECT 'item:' || item, events FROM liber_stats_items UNION ALL SELECT 'all', sum(events)::bigint FROM liber_stats_global", db))
            using (NpgsqlDataReader r = q.ExecuteReader())
            {
                while (r.Read())
                {
                    counted[r.GetString(0)] = r.GetInt64(1);
                }
            }

            Assert.Equal(streams.EventCount, counted["all"]);
            for (int u = 0; u < streams.UserCount; u++)
            {
                Assert.Equal(streams.Length(u), counted[data.Users.External(u)]);
            }

            var perItem = new Dictionary<string, long>(StringComparer.Ordinal);
            for (int row = 0; row < streams.EventCount; row++)
            {
                string item = "item:" + data.Items.External(streams.Items[row]);
                perItem[item] = perItem.GetValueOrDefault(item) + 1;
            }

            Assert.All(perItem, kv => Assert.Equal(kv.Value, counted[kv.Key]));
        }

        output.WriteLine($"{streams.EventCount} events, {partitions} partitions done and equal to liber learn's, statistics counted once, at {clock.Elapsed.TotalSeconds:F1} s");
    }

    [ClusterFact]
    public async Task Rank_on_every_silo_equals_the_single_process_service_on_the_same_events()
    {
        // A DIN + LIBER checkpoint with liber train's defaults (point-in-time statistics on: the silos read the shared
        // counters, the single process its own), the same chain.
        string[] small = ["--dataset", "synthetic", "--users", "16", "--events-per-user", "40", "--seed", "7"];
        string ckpt = Path.Combine(_dir, "ckpt");
        (int code, string o, string e) = CliRunner.Binary(TimeSpan.FromMinutes(10), ["train", .. small, "--backbone", "din", "--epochs", "1", "--liber", "--k", $"{K}", "--encoder", "minilm", "--embedding-cache", Path.Combine(_dir, "emb.db"), "--checkpoint", ckpt]);
        Assert.True(code == 0, o + e);

        Execute($"CREATE SCHEMA {_schema}");
        string file = ClusterFile();
        string[] serveFlags = ["--checkpoint", ckpt, "--job-lease", "10", "--encoder", "minilm", .. small];
        var silos = new List<HttpClient>();
        for (int i = 0; i < 3; i++)
        {
            (int Silo, int Gateway, int Http) p = (FreePort(), FreePort(), FreePort());
            Process child = Launch(["serve", "--cluster", file, "--silo-port", $"{p.Silo}", "--gateway-port", $"{p.Gateway}", "--store", Path.Combine(_dir, $"silo-{p.Silo}"), "--urls", $"http://127.0.0.1:{p.Http}", .. serveFlags]);
            silos.Add(await Listens(child));
        }

        using HttpClient single = await Listens(Launch(["serve", "--store", Path.Combine(_dir, "single.db"), "--urls", "http://127.0.0.1:0", .. serveFlags]));
        Dataset data = DatasetReaders.Load("synthetic", new DatasetRequest(null, BadRowPolicy.Fail) { Synthetic = new SyntheticOptions { Users = 16, MeanEvents = 40, Seed = 7 } });
        UserStreams streams = UserStreams.Build(data);
        int n = 0;
        foreach (int[] batch in StoreFeeder.GlobalOrder(streams).Chunk(25))
        {
            foreach (HttpClient c in new[] { silos[n++ % 3], single })
            {
                HttpResponseMessage r = await c.PostAsync("/v1/events", ServeKillRestartTests.Body(data, streams, batch));
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            }
        }

        foreach (HttpClient c in new[] { silos[0], single })
        {
            long pending = -1;
            for (int i = 0; i < 1800 && pending != 0; i++)
            {
                await Task.Delay(100);
                pending = JsonDocument.Parse(await c.GetStringAsync("/healthz")).RootElement.GetProperty("pending_jobs").GetInt64();
            }

            Assert.Equal(0, pending);
        }

        // The same contract: every silo's OpenAPI document is the single process's (the servers' addresses aside).
        static string Contract(string json)
        {
            var doc = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
            doc.Remove("servers");
            return doc.ToJsonString();
        }

        string contract = Contract(await single.GetStringAsync("/openapi/v1.json"));
        foreach (HttpClient silo in silos)
        {
            Assert.Equal(contract, Contract(await silo.GetStringAsync("/openapi/v1.json")));
        }

        // The same scores, history and partitions from every silo and from the single process.
        string[] candidates = [.. data.Catalog.Take(30).Select(i => i.ExternalId)];
        for (int u = 0; u < streams.UserCount; u += 3)
        {
            string body = JsonSerializer.Serialize(new { user = data.Users.External(u), candidates });
            JsonElement want = await Rank(single, body);
            Assert.True(want.GetProperty("partitions_used").GetInt32() > 0);
            foreach (HttpClient silo in silos)
            {
                JsonElement got = await Rank(silo, body);
                Assert.Equal(want.GetProperty("history_events").GetInt32(), got.GetProperty("history_events").GetInt32());
                Assert.Equal(want.GetProperty("partitions_used").GetInt32(), got.GetProperty("partitions_used").GetInt32());
                float[] a = [.. want.GetProperty("scores").EnumerateArray().Select(x => x.GetProperty("score").GetSingle())];
                float[] b = [.. got.GetProperty("scores").EnumerateArray().Select(x => x.GetProperty("score").GetSingle())];
                Assert.Equal(a.Length, b.Length);
                for (int k = 0; k < a.Length; k++)
                {
                    Assert.True(Math.Abs(a[k] - b[k]) < 1e-5, $"user {u} candidate {k}: single {a[k]}, silo {b[k]}");
                }
            }
        }

        foreach (HttpClient c in silos)
        {
            c.Dispose();
        }

        // A cluster file that turns the shared statistics off cannot serve the model: one line, before any silo starts.
        string off = Path.Combine(_dir, "no-stats.json");
        var fields = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(file))!;
        File.WriteAllText(off, JsonSerializer.Serialize(new Dictionary<string, object> { ["postgres"] = fields["postgres"].GetString()!, ["statistics"] = false }));
        (code, o, e) = CliRunner.Run(["serve", "--cluster", off, "--urls", "http://127.0.0.1:0", .. serveFlags]);
        Assert.Equal(1, code);
        Assert.Contains("\"statistics\": false", e, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", e, StringComparison.Ordinal);
    }

    private static async Task<HttpClient> Listens(Process child)
    {
        string? line;
        while ((line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(180))) is not null)
        {
            if (Listening().Match(line + " ") is { Success: true } m)
            {
                // Keep reading the log: a full pipe would block the silo's logger, and with it every request that logs.
                _ = child.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
                var client = new HttpClient { BaseAddress = new Uri(m.Groups[1].Value), Timeout = TimeSpan.FromSeconds(90) };
                client.DefaultRequestHeaders.Add("X-Api-Key", Key);
                return client;
            }
        }

        throw new InvalidOperationException("liber serve exited before listening");
    }

    private static async Task<JsonElement> Rank(HttpClient c, string body)
    {
        HttpResponseMessage r = await c.PostAsync("/v1/rank", new StringContent(body, Encoding.UTF8, "application/json"));
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    [ClusterFact]
    public async Task Cluster_flags_are_checked_and_a_changed_item_is_refused_with_409()
    {
        (int code, _, string err) = CliRunner.Run(["serve", "--cluster", Path.Combine(_dir, "missing.json"), .. Data]);
        Assert.Equal(1, code);
        Assert.Contains("missing.json not found", err, StringComparison.Ordinal);

        (code, _, err) = CliRunner.Run(["serve", "--urls", "http://127.0.0.1:0", .. Data]);
        Assert.Equal(1, code);
        Assert.Contains("give --store FILE", err, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_dir, "bad.json"), """{ "postgres": "Host=x", "silo_port": 70000 }""");
        (code, _, err) = CliRunner.Run(["serve", "--cluster", Path.Combine(_dir, "bad.json"), .. Data]);
        Assert.Equal(1, code);
        Assert.Contains("\"silo_port\" 70000 is not a port", err, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_dir, "typo.json"), """{ "postgres": "Host=x", "silo_prot": 7 }""");
        (code, _, err) = CliRunner.Run(["serve", "--cluster", Path.Combine(_dir, "typo.json"), .. Data]);
        Assert.Equal(1, code);
        Assert.Contains("typo.json", err, StringComparison.Ordinal);
        Assert.Contains("silo_prot", err, StringComparison.Ordinal);

        (code, _, err) = CliRunner.Run(["serve", "--cluster", Path.Combine(_dir, "bad.json"), "--urls", "http://127.0.0.1:0"]);
        Assert.Equal(1, code);
        Assert.Contains("give --dataset and --path", err, StringComparison.Ordinal);

        (code, _, err) = CliRunner.Run(["serve", "--store", Path.Combine(_dir, "s.db"), "--silo-port", "5000", .. Data]);
        Assert.Equal(1, code);
        Assert.Contains("--silo-port is for a cluster silo", err, StringComparison.Ordinal);

        // A running silo: metadata equal to the catalog is accepted (nothing changed), a new or changed item is a 409.
        Execute($"CREATE SCHEMA {_schema}");
        (Process _, HttpClient client) = await StartSilo(ClusterFile(), (FreePort(), FreePort(), FreePort()));
        using (client)
        {
            Dataset d = DatasetReaders.Load("synthetic", new DatasetRequest(null, BadRowPolicy.Fail) { Synthetic = new SyntheticOptions { Users = Users, MeanEvents = EventsPerUser, Seed = 5 } });
            Item it = d.Catalog[0];
            var same = new { items = new[] { new { id = it.ExternalId, title = it.Title, year = it.Year, categories = it.Categories, tags = it.Tags, text = it.Text } } };
            HttpResponseMessage ok = await client.PostAsync("/v1/items", new StringContent(JsonSerializer.Serialize(same), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(0, JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement.GetProperty("changed").GetInt32());
            var changed = new { items = new[] { new { id = it.ExternalId, title = it.Title + " (director's cut)" } } };
            HttpResponseMessage refused = await client.PostAsync("/v1/items", new StringContent(JsonSerializer.Serialize(changed), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("differs from the catalog", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}
