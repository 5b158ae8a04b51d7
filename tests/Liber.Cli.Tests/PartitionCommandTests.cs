using System.Text.Json;

namespace Liber.Cli.Tests;

public sealed class PartitionCommandTests
{
    [Fact]
    public void Partition_json_prints_the_documented_fields()
    {
        var (code, output, error) = CliRunner.Run("partition", "--users", "25", "--policy", "count", "--k", "20", "--json");
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        foreach (string key in new[] { "users", "events", "partitions", "events_in_partitions", "events_in_caches", "partition_size", "partitions_per_user", "seconds" })
        {
            Assert.True(j.TryGetProperty(key, out _), $"missing {key}");
        }

        Assert.Equal(j.GetProperty("events").GetInt64(), j.GetProperty("events_in_partitions").GetInt64() + j.GetProperty("events_in_caches").GetInt64());
        Assert.Equal(j.GetProperty("partitions").GetInt64() * 20, j.GetProperty("events_in_partitions").GetInt64());
    }

    [Theory]
    [InlineData("gap")]
    [InlineData("window")]
    [InlineData("drift")]
    public void Every_policy_runs_from_the_command_line(string policy)
    {
        var (code, output, error) = CliRunner.Run("partition", "--users", "10", "--policy", policy, "--json");
        Assert.True(code == 0, error);
        Assert.Contains(policy, JsonDocument.Parse(output).RootElement.GetProperty("policy").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_policy_options_are_user_errors()
    {
        Assert.Equal(1, CliRunner.Run("partition", "--users", "5", "--k", "0").Code);
        Assert.Equal(1, CliRunner.Run("partition", "--users", "5", "--policy", "window", "--time-zone", "Nowhere/Void").Code);
        Assert.NotEqual(0, CliRunner.Run("partition", "--policy", "nonsense").Code);
    }

    [RealDataFact]
    public void Count_partitions_on_real_data_equal_the_independent_count()
    {
        string root = CliRunner.SharedDatasets()!;
        var cases = new (string Kind, string Folder, Func<string, IEnumerable<string>> Users)[]
        {
            ("movielens-100k", "ml-100k", p => File.ReadLines(Path.Combine(p, "u.data")).Select(l => l.Split('\t')[0])),
            ("movielens-latest", "ml-latest-small", p => File.ReadLines(Path.Combine(p, "ratings.csv")).Skip(1).Select(l => l.Split(',')[0])),
        };
        foreach (var (kind, folder, users) in cases)
        {
            string path = Path.Combine(root, folder);
            int expected = users(path).GroupBy(u => u).Sum(g => g.Count() / 20);
            var (code, output, error) = CliRunner.Run("partition", "--dataset", kind, "--path", path, "--policy", "count", "--k", "20", "--json");
            Assert.True(code == 0, error);
            Assert.Equal(expected, JsonDocument.Parse(output).RootElement.GetProperty("partitions").GetInt32());
        }
    }
}
