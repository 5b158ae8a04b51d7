using Liber.Models.Training;

namespace Liber.Cli.Tests;

/// <summary>Argument mistakes: one line naming the flag, the value and what is accepted; no help dump; rc 1; before any work.</summary>
public sealed class ArgumentErrorTests
{
    private static string[] Lines(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public void A_value_of_the_wrong_type_is_one_line_naming_flag_value_and_what_is_accepted()
    {
        var (code, output, error) = CliRunner.Run("partition", "--k", "abc");
        Assert.Equal(1, code);
        Assert.Equal("liber: --k abc: not a whole number; give --k followed by a whole number such as 20", Assert.Single(Lines(error)));
        Assert.DoesNotContain("System.Int32", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Usage", output + error, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run("partition", "--period", "yearly");
        Assert.Equal(1, code);
        Assert.Equal("liber: --period yearly: not accepted; one of day, week, month", Assert.Single(Lines(error)));

        (code, output, error) = CliRunner.Run("train", "--backbone", "dinn");
        Assert.Equal(1, code);
        string line = Assert.Single(Lines(error));
        Assert.StartsWith("liber: --backbone dinn: not accepted; one of din,", line, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public void Unknown_options_name_the_verb_help()
    {
        var (code, _, error) = CliRunner.Run("data", "stats", "--foo");
        Assert.Equal(1, code);
        Assert.Contains("'--foo'", Assert.Single(Lines(error)), StringComparison.Ordinal);
        Assert.Contains("liber data stats --help", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Out_of_range_values_are_refused_before_any_uil_or_encoding_work()
    {
        var (code, output, error) = CliRunner.Run("train", "--backbone", "din", "--liber", "--users", "30", "--events-per-user", "40", "--max-partitions", "0");
        Assert.Equal(1, code);
        Assert.Equal("liber: --max-partitions 0: out of range; P must be >= 1", Assert.Single(Lines(error)));
        Assert.Empty(output); // nothing partitioned, learned or encoded first

        (code, _, error) = CliRunner.Run("train", "--backbone", "din", "--batch-size", "0");
        Assert.Equal(1, code);
        Assert.Contains("--batch-size 0: out of range", error, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run("learn", "--users", "5", "--k", "0");
        Assert.Equal(1, code);
        Assert.Contains("--k 0: out of range; the count policy's k must be >= 1", error, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run("demo", "--out", Path.Combine(Path.GetTempPath(), "liber-never-written"), "--temperature", "-1");
        Assert.Equal(1, code);
        Assert.Contains("--temperature -1: out of range", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "liber-never-written")));

        (code, _, error) = CliRunner.Run("serve", "--store", Path.Combine(Path.GetTempPath(), "liber-never.db"), "--max-batch-events", "0", "--insecure-no-auth");
        Assert.Equal(1, code);
        Assert.Contains("--max-batch-events 0: out of range", error, StringComparison.Ordinal);

        // The stats encoder has no texts for the nearline worker: serve refuses it in one line, before the store is opened.
        string statsStore = Path.Combine(Path.GetTempPath(), $"liber-never-{Guid.NewGuid():N}.db");
        (code, _, error) = CliRunner.Run("serve", "--store", statsStore, "--encoder", "stats", "--insecure-no-auth", "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, code);
        Assert.Contains("encoder stats: the statistics encoder is for offline training and evaluation", Assert.Single(Lines(error)), StringComparison.Ordinal);
        Assert.False(File.Exists(statsStore));
    }

    [Fact]
    public void Training_options_name_the_one_that_is_out_of_range()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainOptions { BatchSize = 0 }.Validate());
        Assert.Equal("training option batch_size 0: out of range; it must be >= 1", e.Message);
        e = Assert.Throws<ArgumentException>(() => new TrainOptions { LearningRate = -1 }.Validate());
        Assert.Contains("lr -1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_threshold_outside_the_rating_scale_names_the_scale()
    {
        var (code, _, error) = CliRunner.Run("data", "stats", "--users", "20", "--threshold", "99");
        Assert.Equal(1, code);
        string line = Assert.Single(Lines(error));
        Assert.Contains("--threshold 99: outside the rating scale", line, StringComparison.Ordinal);
        Assert.Contains("(1 to 5)", line, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run("data", "stats", "--users", "20", "--threshold", "5").Code);
    }

    [Theory]
    [InlineData("not-a-url", "not an absolute URL")]
    [InlineData("ftp://x", "scheme 'ftp' is not http or https")]
    [InlineData("/v1", "not an absolute URL")]
    [InlineData("localhost:8000/v1", "not an absolute URL")]
    public void A_bad_endpoint_is_one_line_naming_it(string endpoint, string why)
    {
        var (code, _, error) = CliRunner.Run("learn", "--users", "5", "--endpoint", endpoint, "--model", "m");
        Assert.Equal(1, code);
        Assert.Equal($"liber: --endpoint {endpoint}: {why}; give the server's base URL, e.g. http://127.0.0.1:8000/v1", Assert.Single(Lines(error)));
    }
}
