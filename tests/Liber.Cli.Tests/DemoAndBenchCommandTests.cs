using System.Text.Json;

namespace Liber.Cli.Tests;

public sealed class DemoAndBenchCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "liber-demo-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Demo_writes_its_report_folder()
    {
        var (code, output, error) = CliRunner.Run("demo", "--out", _dir, "--users", "30", "--events-per-user", "50", "--epochs", "2", "--threads", "1", "--json");
        Assert.True(code == 0, error);
        Assert.InRange(JsonDocument.Parse(output).RootElement.GetProperty("backbone").GetProperty("test").GetProperty("auc").GetDouble(), 0, 1);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(_dir, "attention.png"))[..4]);
        foreach (string f in new[] { "report.md", "results.json", "interests.jsonl", "attention.png" })
        {
            Assert.True(File.Exists(Path.Combine(_dir, f)), $"missing {f}");
        }

        JsonElement results = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "results.json"))).RootElement;
        Assert.InRange(results.GetProperty("liber").GetProperty("test").GetProperty("auc").GetDouble(), 0, 1);
        Assert.True(results.GetProperty("efficiency").GetProperty("naive_per_event_calls").GetInt64() > results.GetProperty("efficiency").GetProperty("liber_calls").GetInt64());
        string report = File.ReadAllText(Path.Combine(_dir, "report.md"));
        Assert.Contains("template-v1 writer, no LLM", report, StringComparison.Ordinal);
        Assert.Contains("attention", report, StringComparison.Ordinal);
        string stats = Path.Combine(_dir, "dataset-stats.json");
        Assert.True(File.Exists(stats));
        Assert.Equal(30, JsonDocument.Parse(File.ReadAllText(stats)).RootElement.GetProperty("users").GetInt32());
        Assert.Contains("synthetic", error, StringComparison.Ordinal);
        var partitions = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "partitions.json"))).RootElement;
        Assert.Equal(30, partitions.GetProperty("users").GetInt32());
        Assert.True(partitions.GetProperty("partitions").GetInt32() > 30 * 2);
    }

    [Fact]
    public void Bench_data_parses_the_generated_ml1m_file()
    {
        var (code, output, error) = CliRunner.Run("bench", "data", "--events", "30000", "--dir", _dir, "--json");
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        Assert.Equal(30000, j.GetProperty("events").GetInt32());
        Assert.True(j.GetProperty("events_per_second").GetDouble() > 0);
        Assert.Contains("cores", j.GetProperty("machine").GetString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "ratings.dat")));
    }

    [Fact]
    public void Bench_partition_reports_memory_store_and_per_user_figures()
    {
        var (code, output, error) = CliRunner.Run("bench", "partition", "--users", "40", "--events-per-user", "50", "--repeats", "1", "--batch-size", "100", "--json");
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        foreach (string key in new[] { "memory_events_per_second_best", "store_full_events_per_second", "store_normal_events_per_second" })
        {
            Assert.True(j.GetProperty(key).GetDouble() > 0, key);
        }

        // A heap difference: other tests run in parallel in this process, so only its presence is checked here.
        Assert.Equal(JsonValueKind.Number, j.GetProperty("engine_bytes_per_user").ValueKind);

        Assert.Equal(40, j.GetProperty("users").GetInt32());
    }

    [Fact]
    public void Bench_train_times_each_backbone_with_and_without_liber()
    {
        var (code, output, error) = CliRunner.Run("bench", "train", "--users", "30", "--events-per-user", "40", "--batches", "2", "--batch-size", "32", "--backbone", "deepfm", "--liber", "--json");
        Assert.True(code == 0, error);
        JsonElement[] rows = [.. JsonDocument.Parse(output).RootElement.EnumerateArray()];
        Assert.Equal(["deepfm", "deepfm+liber"], rows.Select(r => r.GetProperty("Backbone").GetString()));
        Assert.All(rows, r => Assert.True(r.GetProperty("SamplesPerSecond").GetDouble() > 0));
    }

    [Fact]
    public async Task Demo_with_an_endpoint_uses_the_llm_server()
    {
        await using var stub = new Liber.Interests.Benchmarks.OpenAiStubServer();
        var (code, output, error) = CliRunner.Run("demo", "--out", _dir, "--users", "12", "--events-per-user", "45", "--epochs", "1", "--threads", "1",
            "--endpoint", stub.Endpoint.ToString(), "--model", "stub-model", "--json");
        Assert.True(code == 0, error);
        Assert.True(stub.RequestCount > 0);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        Assert.Equal(stub.RequestCount, j.GetProperty("liber").GetProperty("liber").GetProperty("accounting").GetProperty("llm_calls").GetInt64());
        Assert.Contains("**openai** backend", File.ReadAllText(Path.Combine(_dir, "report.md")), StringComparison.Ordinal);
    }
}
