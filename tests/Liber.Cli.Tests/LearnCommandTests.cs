using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Interests.Benchmarks;
using Liber.Interests.Learning;

namespace Liber.Cli.Tests;

public sealed class LearnCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-learn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Fields =
    [
        "partitions", "llm_calls", "cache_hits", "failures", "prompt_tokens", "completion_tokens", "seconds",
        "naive_per_event_calls", "naive_per_event_prompt_tokens", "per_user_calls", "per_user_prompt_tokens",
    ];

    /// <summary>Partitions, users with partitions and events of a synthetic world with count-20 partitions.</summary>
    private static (int Partitions, int Users, int Events) Shape(int users, int eventsPerUser)
    {
        var world = SyntheticWorld.Generate(new SyntheticOptions { Users = users, MeanEvents = eventsPerUser });
        var streams = UserStreams.Build(world.Dataset);
        var set = PartitionSet.Build(streams, PartitionPolicies.Create(new PartitionOptions()), new PartitionCaps(), ItemFeatures.Build(world.Dataset, new Cl100kTokenCounter()));
        return (set.Count, Enumerable.Range(0, set.UserCount).Count(u => set.Of(u).Length > 0), streams.EventCount);
    }

    [Fact]
    public void Template_learn_prints_the_documented_fields_and_labels_its_output()
    {
        string records = Path.Combine(_dir, "texts.jsonl");
        var (code, output, error) = CliRunner.Run("learn", "--users", "12", "--events-per-user", "100", "--json", "--out", records);
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        foreach (string key in Fields)
        {
            Assert.True(j.TryGetProperty(key, out _), $"missing {key}");
        }

        var (partitions, _, events) = Shape(12, 100);
        Assert.Equal("template", j.GetProperty("backend").GetString());
        Assert.Equal(partitions, j.GetProperty("partitions").GetInt32());
        Assert.Equal(partitions, j.GetProperty("done").GetInt32());
        Assert.Equal(0, j.GetProperty("llm_calls").GetInt64());
        Assert.Equal(events, j.GetProperty("naive_per_event_calls").GetInt64());
        Assert.Equal(12, j.GetProperty("per_user_calls").GetInt64());
        string[] lines = File.ReadAllLines(records);
        Assert.Equal(partitions, lines.Length);
        Assert.All(lines, l => Assert.Contains("[template-v1 writer, no LLM]", l, StringComparison.Ordinal));
        Assert.Contains("learn: ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("two-call")]
    [InlineData("one-call")]
    public void Dry_run_prints_only_the_estimate(string mode)
    {
        var (code, output, error) = CliRunner.Run("learn", "--users", "10", "--events-per-user", "100", "--mode", mode, "--backend", "openai", "--dry-run", "--json");
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        Assert.False(j.TryGetProperty("llm_calls", out _));
        var (partitions, users, events) = Shape(10, 100);
        Assert.Equal(mode == "one-call" ? partitions : 2 * partitions - users, j.GetProperty("liber_calls").GetInt64());
        Assert.Equal(events, j.GetProperty("naive_per_event_calls").GetInt64());
        Assert.Equal(10, j.GetProperty("per_user_calls").GetInt64());
        // Re-summarising the whole history at every event costs far more tokens than LIBER's incremental prompts.
        Assert.True(j.GetProperty("naive_per_event_prompt_tokens").GetInt64() > 3 * j.GetProperty("liber_prompt_tokens").GetInt64());
    }

    [Fact]
    public async Task Openai_learn_against_a_stub_counts_calls_and_a_rerun_hits_the_cache()
    {
        await using var stub = new OpenAiStubServer();
        string cache = Path.Combine(_dir, "cache.db");
        string[] args = ["learn", "--users", "6", "--events-per-user", "80", "--backend", "openai", "--endpoint", stub.Endpoint.ToString(), "--model", "stub", "--cache", cache, "--json"];
        var (code, output, error) = CliRunner.Run(args);
        Assert.True(code == 0, error);
        var (partitions, users, _) = Shape(6, 80);
        JsonElement first = JsonDocument.Parse(output).RootElement;
        Assert.Equal(2 * partitions - users, first.GetProperty("llm_calls").GetInt64());
        Assert.Equal(stub.RequestCount, first.GetProperty("llm_calls").GetInt64());
        Assert.True(first.GetProperty("prompt_tokens").GetInt64() > 0);

        // A budget that stops the run leaves partitions skipped: exit code 3, resumable.
        var (code3, output3, _) = CliRunner.Run(["learn", "--users", "6", "--events-per-user", "80", "--backend", "openai", "--endpoint", stub.Endpoint.ToString(), "--model", "other", "--max-calls", "5", "--json"]);
        Assert.Equal(3, code3);
        JsonElement stopped = JsonDocument.Parse(output3).RootElement;
        Assert.Equal(5, stopped.GetProperty("llm_calls").GetInt64());
        Assert.True(stopped.GetProperty("budget_exhausted").GetBoolean());

        var (code2, output2, error2) = CliRunner.Run(args);
        Assert.True(code2 == 0, error2);
        JsonElement second = JsonDocument.Parse(output2).RootElement;
        Assert.Equal(0, second.GetProperty("llm_calls").GetInt64());
        Assert.Equal(2 * partitions - users, second.GetProperty("cache_hits").GetInt64());
    }

    [RealDataFact]
    public void Template_learn_on_movielens_100k_writes_every_partition_and_names_its_top_genre()
    {
        string path = Path.Combine(CliRunner.SharedDatasets()!, "ml-100k");
        int expected = File.ReadLines(Path.Combine(path, "u.data")).GroupBy(l => l.Split('\t')[0]).Sum(g => g.Count() / 20);
        string records = Path.Combine(_dir, "ml100k.jsonl");
        var (code, output, error) = CliRunner.Run("learn", "--dataset", "movielens-100k", "--path", path, "--json", "--out", records);
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        Assert.Equal(expected, j.GetProperty("done").GetInt32());
        Assert.Equal(expected, File.ReadLines(records).Count());
        // User 0's first partition (their 20 earliest ratings, ties in file order): the template's
        // leading genre is one that most of those movies carry, counted here from the raw files.
        string[] genreNames = File.ReadLines(Path.Combine(path, "u.genre")).Where(l => l.Contains('|', StringComparison.Ordinal)).Select(l => l.Split('|')[0]).ToArray();
        var genres = File.ReadLines(Path.Combine(path, "u.item"), System.Text.Encoding.Latin1).Select(l => l.Split('|'))
            .ToDictionary(f => f[0], f => f[5..].Select((flag, g) => (flag, g)).Where(x => x.flag == "1").Select(x => genreNames[x.g]).ToArray());
        var rows = File.ReadLines(Path.Combine(path, "u.data")).Select((l, i) => (Fields: l.Split('\t'), Position: i)).ToList();
        // Dense user 0 is the smallest numeric external id (the builder orders numeric ids).
        string user = rows.Select(r => r.Fields[0]).MinBy(u => int.Parse(u, CultureInfo.InvariantCulture))!;
        var counts = rows.Where(r => r.Fields[0] == user).OrderBy(r => long.Parse(r.Fields[3], CultureInfo.InvariantCulture)).ThenBy(r => r.Position).Take(20)
            .SelectMany(r => genres[r.Fields[1]]).GroupBy(g => g).ToDictionary(g => g.Key, g => g.Count());
        string first = File.ReadLines(records).First();
        Assert.Contains("\"user\":\"1\",\"number\":0", first, StringComparison.Ordinal);
        var m = System.Text.RegularExpressions.Regex.Match(first, "Dominant genres: ([A-Za-z'-]+) ([0-9]+)%");
        Assert.True(m.Success, first);
        Assert.Equal(counts.Values.Max(), counts.GetValueOrDefault(m.Groups[1].Value));
        Assert.Equal((int)Math.Round(counts.Values.Max() * 100 / 20.0), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task The_api_key_is_sent_to_the_server_and_never_printed()
    {
        await using var stub = new OpenAiStubServer();
        string keyFile = Path.Combine(_dir, "key.txt");
        File.WriteAllText(keyFile, "\n  sk-test-secret-4711  \n");
        var (code, output, error) = CliRunner.Run("learn", "--users", "2", "--events-per-user", "40", "--backend", "openai", "--endpoint", stub.Endpoint.ToString(), "--model", "stub", "--api-key-file", keyFile, "--json");
        Assert.True(code == 0, error);
        Assert.True(stub.RequestCount > 0);
        Assert.All(stub.Requests, r => Assert.Equal("Bearer sk-test-secret-4711", r.Authorization));
        Assert.DoesNotContain("sk-test-secret", output + error, StringComparison.Ordinal);
        var (code2, _, error2) = CliRunner.Run("learn", "--users", "2", "--backend", "openai", "--endpoint", stub.Endpoint.ToString(), "--model", "stub", "--api-key-file", Path.Combine(_dir, "nokey.txt"));
        Assert.Equal(1, code2);
        Assert.Contains("nokey.txt", error2, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_backend_settings_are_user_errors()
    {
        var (code, _, error) = CliRunner.Run("learn", "--users", "3", "--backend", "openai");
        Assert.Equal(1, code);
        Assert.Contains("--endpoint", error, StringComparison.Ordinal);
        (code, _, error) = CliRunner.Run("learn", "--users", "3", "--backend", "llama", "--gguf", Path.Combine(_dir, "none.gguf"));
        Assert.Equal(1, code);
        Assert.Contains("none.gguf", error, StringComparison.Ordinal);
        Assert.NotEqual(0, CliRunner.Run("learn", "--users", "3", "--backend", "nonsense").Code);
        Assert.Equal(1, CliRunner.Run("learn", "--users", "3", "--max-in-flight", "0").Code);
    }

    [Fact]
    public async Task A_killed_child_process_resumes_with_every_partition_answered_exactly_once()
    {
        var (partitions, users, _) = Shape(20, 100);
        int expected = 2 * partitions - users;
        await using var stub = new OpenAiStubServer(_ => new StubReply { Delay = TimeSpan.FromMilliseconds(50) });
        string cache = Path.Combine(_dir, "resume.db");
        string[] args = ["learn", "--users", "20", "--events-per-user", "100", "--backend", "openai", "--endpoint", stub.Endpoint.ToString(), "--model", "stub", "--cache", cache, "--max-in-flight", "4", "--json"];

        var (child, _) = Start(args);
        using (child)
        {
            var until = Stopwatch.StartNew();
            while (stub.RequestCount < expected / 3 && !child.HasExited && until.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(10);
            }

            Assert.False(child.HasExited, "the child finished before it could be killed");
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync();
        }

        int requestsBefore = stub.RequestCount;
        long stored;
        using (var store = new ResponseCache(cache))
        {
            stored = store.Count;
        }

        Assert.InRange(stored, 1, expected - 1);
        // Only the requests in flight at the kill (at most 4, plus one that may have arrived meanwhile) were lost.
        Assert.InRange(requestsBefore - stored, 0, 5);

        stub.Plan = _ => StubReply.Ok;
        var (rerun, errors) = Start(args);
        using (rerun)
        {
            string output = await rerun.StandardOutput.ReadToEndAsync();
            await rerun.WaitForExitAsync();
            Assert.True(rerun.ExitCode == 0, await errors);
            JsonElement j = JsonDocument.Parse(output).RootElement;
            Assert.Equal(partitions, j.GetProperty("done").GetInt32());
            // Nothing answered before the kill was asked again, and nothing is missing.
            Assert.Equal(stored, j.GetProperty("cache_hits").GetInt64());
            Assert.Equal(expected - stored, j.GetProperty("llm_calls").GetInt64());
        }

        var rerunPrompts = stub.Requests.Skip(requestsBefore).Select(r => r.User).ToList();
        Assert.Equal(rerunPrompts.Count, rerunPrompts.Distinct(StringComparer.Ordinal).Count());
        using (var store = new ResponseCache(cache))
        {
            Assert.Equal(expected, store.Count);
        }
    }

    private static (Process Child, Task<string> Errors) Start(string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "liber.dll");
        Assert.True(File.Exists(dll), $"{dll} not found");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        var p = Process.Start(info)!;
        // Drain stderr so that progress lines never block the child.
        return (p, p.StandardError.ReadToEndAsync());
    }
}
