using System.Text.Json;

namespace Liber.Cli.Tests;

public sealed class ProbeCommandTests
{
    private static JsonElement Row(JsonElement report, string kind, string target) =>
        report.GetProperty("scores").EnumerateArray().Single(r => r.GetProperty("kind").GetString() == kind && r.GetProperty("target").GetString() == target);

    [Fact]
    public void The_stats_vector_recovers_its_partitions_statistics_on_held_out_users()
    {
        var (code, output, error) = CliRunner.Run("probe", "--users", "120", "--events-per-user", "80", "--vectors", "stats", "--json");
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        Assert.Equal(120, j.GetProperty("users").GetInt32());
        JsonElement dominant = Row(j, "stats", "dominant_category");
        Assert.Equal("accuracy", dominant.GetProperty("metric").GetString());
        Assert.True(dominant.GetProperty("score").GetDouble() > dominant.GetProperty("baseline").GetDouble() + 0.2, dominant.ToString());
        JsonElement liked = Row(j, "stats", "liked_share");
        Assert.True(liked.GetProperty("score").GetDouble() > 0.9, liked.ToString());
        Assert.True(dominant.GetProperty("train_rows").GetInt32() > 0 && dominant.GetProperty("test_rows").GetInt32() > 0);
    }

    [Fact]
    public void Template_summaries_are_encoded_and_probed_next_to_the_stats_vector()
    {
        var (code, output, error) = CliRunner.Run("probe", "--users", "40", "--events-per-user", "60", "--vectors", "template-v2", "stats");
        Assert.True(code == 0, error);
        Assert.Contains("template-v2 summaries -> minilm", output, StringComparison.Ordinal);
        Assert.Contains("statistics vector (not LLM, no text)", output, StringComparison.Ordinal);
        Assert.Contains("liked_share", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_few_users_is_a_one_line_error()
    {
        var (code, _, error) = CliRunner.Run("probe", "--users", "10", "--vectors", "stats", "--max-users", "1");
        Assert.Equal(1, code);
        Assert.Contains("--max-users 1", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }
}
