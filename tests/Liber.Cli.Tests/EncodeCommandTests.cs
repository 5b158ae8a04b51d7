using System.Text.Json;

namespace Liber.Cli.Tests;

public sealed class EncodeCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "liber-encode-" + Guid.NewGuid().ToString("N"));

    public EncodeCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Encode_prints_accounting_writes_vectors_and_reuses_the_cache()
    {
        string texts = Path.Combine(_dir, "texts.jsonl");
        File.WriteAllLines(texts, ["\"likes crime thrillers\"", "{\"id\": 7, \"text\": \"mostly animated films\"}", "", "\"likes crime thrillers\""]);
        string cache = Path.Combine(_dir, "cache.db");
        string vectors = Path.Combine(_dir, "v.bin");

        var (code, output, error) = CliRunner.Run("encode", "--texts", texts, "--cache", cache, "--out", vectors, "--json");
        Assert.True(code == 0, error);
        var j = JsonDocument.Parse(output).RootElement;
        Assert.Equal(3, j.GetProperty("texts").GetInt32());
        Assert.Equal(2, j.GetProperty("unique_texts").GetInt32());
        Assert.Equal(0, j.GetProperty("cache_hits").GetInt32());
        Assert.Equal(2, j.GetProperty("encoded").GetInt32());
        Assert.Equal(384, j.GetProperty("dimension").GetInt32());
        Assert.True(j.GetProperty("seconds").GetDouble() > 0);
        Assert.True(j.GetProperty("texts_per_second").GetDouble() > 0);
        Assert.Equal(16 + (3 * 384 * 4), new FileInfo(vectors).Length);

        (code, output, error) = CliRunner.Run("encode", "--texts", texts, "--cache", cache, "--json");
        Assert.True(code == 0, error);
        j = JsonDocument.Parse(output).RootElement;
        Assert.Equal(2, j.GetProperty("cache_hits").GetInt32());
        Assert.Equal(0, j.GetProperty("encoded").GetInt32());
    }

    [Fact]
    public void Grouped_records_of_learn_out_give_similarity_and_null_texts_are_counted()
    {
        // `liber learn --out` records: a first partition has no shift (null).
        string texts = Path.Combine(_dir, "learn.jsonl");
        File.WriteAllLines(texts,
        [
            "{\"user\": 1, \"number\": 0, \"summary\": \"crime thrillers\", \"shift\": null}",
            "{\"user\": 1, \"number\": 1, \"summary\": \"crime thrillers and noir\", \"shift\": \"towards noir\"}",
            "{\"user\": 2, \"number\": 0, \"summary\": \"animated family films\", \"shift\": null}",
            "{\"user\": 2, \"number\": 1, \"summary\": \"animated films and musicals\", \"shift\": \"towards musicals\"}",
        ]);
        var (code, output, error) = CliRunner.Run("encode", "--texts", texts, "--text-field", "summary", "--group-field", "user", "--json");
        Assert.True(code == 0, error);
        var j = JsonDocument.Parse(output).RootElement;
        Assert.Equal(4, j.GetProperty("accounting").GetProperty("texts").GetInt32());
        Assert.Equal(0, j.GetProperty("skipped_null").GetInt32());
        JsonElement s = j.GetProperty("similarity");
        Assert.Equal(2, s.GetProperty("groups").GetInt32());
        Assert.Equal(2, s.GetProperty("consecutive_pairs").GetInt32());
        Assert.Equal(2, s.GetProperty("same_group_pairs").GetInt32());
        Assert.Equal(4, s.GetProperty("other_group_pairs").GetInt32());
        Assert.True(s.GetProperty("same_group").GetDouble() > s.GetProperty("other_groups").GetDouble(), output);

        (code, output, error) = CliRunner.Run("encode", "--texts", texts, "--text-field", "shift", "--group-field", "user");
        Assert.True(code == 0, error);
        Assert.Contains("2 records with a null \"shift\" skipped", output, StringComparison.Ordinal);
        Assert.Contains("mean cosine over 2 groups (all pairs): consecutive texts of a group NaN (0 pairs), same group NaN (0), different groups ", output, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run("encode", "--texts", texts, "--text-field", "summary", "--group-field", "missing");
        Assert.Equal(1, code);
        Assert.Contains("learn.jsonl:1: expected a string or number \"missing\" (--group-field)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_line_of_a_txt_file_is_an_error_naming_the_line()
    {
        string texts = Path.Combine(_dir, "texts.txt");
        File.WriteAllLines(texts, ["one", "", "three"]);
        var (code, _, error) = CliRunner.Run("encode", "--texts", texts);
        Assert.Equal(1, code);
        Assert.Contains("texts.txt:2: empty text", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_json_is_an_error_naming_the_line()
    {
        string texts = Path.Combine(_dir, "texts.jsonl");
        File.WriteAllLines(texts, ["\"fine\"", "{\"text\": 5}"]);
        var (code, _, error) = CliRunner.Run("encode", "--texts", texts);
        Assert.Equal(1, code);
        Assert.Contains("texts.jsonl:2: expected a JSON string or an object with a string \"text\"", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_openai_endpoint_is_a_user_error()
    {
        string texts = Path.Combine(_dir, "texts.txt");
        File.WriteAllLines(texts, ["one"]);
        var (code, _, error) = CliRunner.Run("encode", "--texts", texts, "--encoder", "openai", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--dimensions", "4", "--retries", "0");
        Assert.Equal(1, code);
        Assert.Contains("openai encoder", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_encode_reports_texts_per_second_and_cache_lookups()
    {
        var (code, output, error) = CliRunner.Run("bench", "encode", "--texts", "4", "--words", "20", "--batch-sizes", "1", "4", "--cache-entries", "200", "--json");
        Assert.True(code == 0, error);
        var j = JsonDocument.Parse(output).RootElement;
        Assert.Equal([1, 4], j.GetProperty("batches").EnumerateArray().Select(b => b.GetProperty("batch_size").GetInt32()));
        Assert.All(j.GetProperty("batches").EnumerateArray(), b => Assert.True(b.GetProperty("texts_per_second").GetDouble() > 0));
        Assert.True(j.GetProperty("cache_lookups_per_second").GetDouble() > 0);
        Assert.Contains("cores", j.GetProperty("machine").GetString(), StringComparison.Ordinal);
    }
}
