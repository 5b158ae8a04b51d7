using System.Text.Json;

namespace Liber.Cli.Tests;

public sealed class DataStatsCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "liber-cli-" + Guid.NewGuid().ToString("N"));

    public DataStatsCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void Synthetic_stats_json_has_every_field_and_consistent_counts()
    {
        var (code, output, error) = CliRunner.Run("data", "stats", "--dataset", "synthetic", "--users", "40", "--json");

        Assert.True(code == 0, error);
        JsonElement j = Json(output);
        foreach (string key in new[]
                 {
                     "users", "items", "catalog_items", "events", "positives", "duplicates_dropped", "bad_rows_skipped",
                     "min_history_excluded", "samples", "train", "valid", "test", "train_end_timestamp", "valid_end_timestamp", "history_length",
                 })
        {
            Assert.True(j.TryGetProperty(key, out _), $"missing {key}");
        }

        Assert.Equal(40, j.GetProperty("users").GetInt32());
        int samples = j.GetProperty("samples").GetInt32();
        Assert.Equal(samples, j.GetProperty("train").GetInt32() + j.GetProperty("valid").GetInt32() + j.GetProperty("test").GetInt32());
        Assert.Equal(j.GetProperty("events").GetInt32(), samples + j.GetProperty("min_history_excluded").GetInt32());
        Assert.Equal(40 * 5, j.GetProperty("min_history_excluded").GetInt32());
        Assert.Equal(samples * 8 / 10, j.GetProperty("train").GetInt32());
        Assert.True(j.GetProperty("history_length").GetProperty("min").GetDouble() >= 150);
    }

    [Theory]
    [InlineData("din")]
    [InlineData("gbdt")]
    public void Implicit_csv_trains_on_drawn_negatives_and_reports_the_ranking_metrics(string backbone)
    {
        File.WriteAllText(Path.Combine(_dir, "liber-csv.json"), """{ "events": { "rating": null } }""");
        var rng = new Random(3);
        var rows = new List<string> { "user_id,item_id,timestamp" };
        for (int u = 0; u < 30; u++)
        {
            for (int e = 0; e < 40; e++)
            {
                rows.Add($"u{u},i{(int)(150 * Math.Pow(rng.NextDouble(), 3))},{1000 + rng.Next(100_000)}"); // a strong popular head
            }
        }

        File.WriteAllLines(Path.Combine(_dir, "events.csv"), rows);
        var (code, output, error) = CliRunner.Run("train", "--dataset", "csv", "--path", _dir, "--backbone", backbone, "--epochs", "3", "--negatives", "3", "--negative-sampling", "uniform", "--json");
        Assert.True(code == 0, error);
        JsonElement test = Json(output).GetProperty("test");
        Assert.Equal(0, test.GetProperty("samples").GetInt32() % 4); // each positive with its 3 negatives
        JsonElement ranking = test.GetProperty("ranking");
        Assert.InRange(ranking.GetProperty("hr").GetDouble(), 0, 1);
        Assert.Equal(4, ranking.GetProperty("candidates").GetInt32());
        Assert.InRange(test.GetProperty("auc").GetDouble(), 0.6, 1); // uniform negatives are rarer items: read from the drawn items' own statistics and ids
    }

    [Fact]
    public void Implicit_csv_stats_report_positives_and_drawn_negatives()
    {
        File.WriteAllText(Path.Combine(_dir, "liber-csv.json"), """{ "events": { "rating": null } }""");
        File.WriteAllText(Path.Combine(_dir, "events.csv"), "user_id,item_id,timestamp\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"u{i % 3},i{i % 41},{1000 + i}\n")));

        var (code, output, error) = CliRunner.Run("data", "stats", "--dataset", "csv", "--path", _dir, "--min-history", "2", "--negatives", "3", "--json");
        Assert.True(code == 0, error);
        JsonElement j = Json(output);
        int events = j.GetProperty("events").GetInt32();
        Assert.Equal(events, j.GetProperty("positives").GetInt32());
        Assert.Equal(3, j.GetProperty("negatives_per_positive").GetInt32());
        Assert.Equal("popularity", j.GetProperty("negative_sampling").GetString());
        Assert.Equal((events - j.GetProperty("min_history_excluded").GetInt32()) * 4, j.GetProperty("samples").GetInt32());

        (code, output, _) = CliRunner.Run("data", "stats", "--dataset", "csv", "--path", _dir, "--min-history", "2");
        Assert.Equal(0, code);
        Assert.Contains("negatives per positive (popularity)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Negatives_on_rated_data_are_a_one_line_error()
    {
        var (code, _, error) = CliRunner.Run("data", "stats", "--users", "10", "--negatives", "4");
        Assert.Equal(1, code);
        Assert.Contains("implicit data only", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Table_output_names_the_statistics()
    {
        var (code, output, _) = CliRunner.Run("data", "stats", "--users", "10", "--min-history", "3");
        Assert.Equal(0, code);
        Assert.Contains("train / valid / test", output, StringComparison.Ordinal);
        Assert.Contains("excluded by min_history=3", output, StringComparison.Ordinal);
        Assert.Contains("30", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_row_fails_with_file_and_line_unless_skipped()
    {
        File.WriteAllText(Path.Combine(_dir, "events.csv"), "user_id,item_id,timestamp,rating\nu1,a,1000,4\nu1,b,1001,five\nu1,c,1002,2\n");

        var (code, _, error) = CliRunner.Run("data", "stats", "--dataset", "csv", "--path", _dir, "--min-history", "0");
        Assert.Equal(1, code);
        Assert.Contains("events.csv:3", error, StringComparison.Ordinal);
        Assert.Contains("five", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));

        var (code2, output, error2) = CliRunner.Run("data", "stats", "--dataset", "csv", "--path", _dir, "--min-history", "0", "--on-bad-row", "skip", "--json");
        Assert.True(code2 == 0, error2);
        JsonElement j = Json(output);
        Assert.Equal(1, j.GetProperty("bad_rows_skipped").GetInt32());
        Assert.Equal(2, j.GetProperty("events").GetInt32());
        Assert.Equal(1, j.GetProperty("positives").GetInt32());
    }

    [Fact]
    public void User_errors_exit_1_with_one_line()
    {
        var (code, _, error) = CliRunner.Run("data", "stats", "--dataset", "no-such-kind");
        Assert.Equal(1, code);
        Assert.Contains("--dataset no-such-kind: unknown data set kind; one of", error, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run("data", "stats", "--dataset", "movielens-100k");
        Assert.Equal(1, code);
        Assert.Contains("--path", error, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run("data", "stats", "--dataset", "movielens-100k", "--path", Path.Combine(_dir, "missing"));
        Assert.Equal(1, code);
        Assert.Contains("folder not found", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_the_verbs()
    {
        var (code, output, _) = CliRunner.Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("data", output, StringComparison.Ordinal);
        Assert.Contains("demo", output, StringComparison.Ordinal);
        Assert.Contains("bench", output, StringComparison.Ordinal);
    }

    [RealDataFact]
    public void Ml100k_stats_agree_with_an_independent_count()
    {
        string path = Path.Combine(CliRunner.SharedDatasets()!, "ml-100k");
        var (code, output, error) = CliRunner.Run("data", "stats", "--dataset", "movielens-100k", "--path", path, "--json");
        Assert.True(code == 0, error);
        JsonElement j = Json(output);

        // Independent count straight from u.data.
        var rows = File.ReadLines(Path.Combine(path, "u.data")).Select(l => l.Split('\t')).ToList();
        Assert.Equal(rows.Select(r => r[0]).Distinct().Count(), j.GetProperty("users").GetInt32());
        Assert.Equal(rows.Select(r => r[1]).Distinct().Count(), j.GetProperty("items").GetInt32());
        Assert.Equal(rows.Count, j.GetProperty("events").GetInt32());
        Assert.Equal(rows.Count(r => int.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture) >= 4), j.GetProperty("positives").GetInt32());
        Assert.Equal(1682, j.GetProperty("catalog_items").GetInt32());
        int samples = rows.Count - 943 * 5;
        Assert.Equal(samples, j.GetProperty("samples").GetInt32());
        Assert.Equal(samples * 8 / 10, j.GetProperty("train").GetInt32());
        Assert.Equal(samples * 9 / 10 - samples * 8 / 10, j.GetProperty("valid").GetInt32());
    }

    [RealDataFact]
    public void MlLatestSmall_stats_agree_with_an_independent_count()
    {
        string path = Path.Combine(CliRunner.SharedDatasets()!, "ml-latest-small");
        var (code, output, error) = CliRunner.Run("data", "stats", "--dataset", "movielens-latest", "--path", path, "--json");
        Assert.True(code == 0, error);
        JsonElement j = Json(output);

        var rows = File.ReadLines(Path.Combine(path, "ratings.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(rows.Select(r => r[0]).Distinct().Count(), j.GetProperty("users").GetInt32());
        Assert.Equal(rows.Select(r => r[1]).Distinct().Count(), j.GetProperty("items").GetInt32());
        Assert.Equal(rows.Count, j.GetProperty("events").GetInt32());
        Assert.Equal(rows.Count(r => double.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture) >= 4), j.GetProperty("positives").GetInt32());
        Assert.Equal(9742, j.GetProperty("catalog_items").GetInt32());
        Assert.Equal(0, j.GetProperty("duplicates_dropped").GetInt32());
    }
}
