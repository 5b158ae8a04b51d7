using System.Text.Json;
using System.Text.Json.Nodes;

namespace Liber.Cli.Tests;

/// <summary>
/// A checkpoint records its LIBER setup; <c>evaluate</c> and <c>serve</c> take it as their defaults and refuse a flag
/// that contradicts it; a corrupt checkpoint is one line naming the file.
/// </summary>
public sealed class CheckpointSetupTests : IDisposable
{
    private static readonly string[] Data = ["--users", "30", "--events-per-user", "40"];

    private readonly string _dir = Directory.CreateTempSubdirectory("liber-setup-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string[] Lines(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public void Evaluate_and_serve_use_the_recorded_setup_and_refuse_a_conflicting_flag()
    {
        string ckpt = Path.Combine(_dir, "model");
        string cache = Path.Combine(_dir, "emb.db");
        var (code, output, error) = CliRunner.Run(["train", .. Data, "--backbone", "din", "--epochs", "1", "--batch-size", "64", "--liber", "--k", "10", "--max-events", "50", "--embedding-cache", cache, "--checkpoint", ckpt, "--json"]);
        Assert.True(code == 0, error);
        double trained = JsonDocument.Parse(output).RootElement.GetProperty("test").GetProperty("auc").GetDouble();

        string configPath = Path.Combine(ckpt, "config.json");
        JsonNode setup = JsonNode.Parse(File.ReadAllText(configPath))!["setup"]!;
        Assert.Equal("synthetic", (string?)setup["dataset"]!["kind"]);
        Assert.Equal(20, (int)setup["dataset"]!["history_length"]!);
        JsonNode liber = setup["liber"]!;
        Assert.Equal("count", (string?)liber["policy"]!["name"]);
        Assert.Equal(10, (int)liber["policy"]!["k"]!);
        Assert.Equal(50, (int)liber["policy"]!["max_events"]!);
        Assert.Equal(32, (int)liber["max_partitions"]!);
        Assert.Equal("template", (string?)liber["uil"]!["backend"]);
        Assert.Equal("two-call", (string?)liber["uil"]!["mode"]);
        Assert.NotNull((string?)liber["uil"]!["template_version"]);
        Assert.Equal("minilm", (string?)liber["encoder"]);
        Assert.Equal("attention", (string?)liber["fusion"]);

        // Without --k, evaluate partitions with the recorded k = 10 (it used the default 20 before) and so repeats the test AUC.
        (code, output, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--embedding-cache", cache, "--json"]);
        Assert.True(code == 0, error);
        Assert.Equal(trained, JsonDocument.Parse(output).RootElement.GetProperty("metrics").GetProperty("auc").GetDouble(), 6);

        (code, _, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--k", "20"]);
        Assert.Equal(1, code);
        Assert.Equal($"liber: --k 20 conflicts with the checkpoint's count policy k=10 ({configPath}); drop --k or retrain", Assert.Single(Lines(error)));

        (code, _, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--policy", "gap"]);
        Assert.Equal(1, code);
        Assert.Contains("--policy gap conflicts with the checkpoint's count policy k=10", error, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--encoder", "arctic-xs"]);
        Assert.Equal(1, code);
        Assert.Contains("--encoder arctic-xs conflicts with the checkpoint's encoder minilm", error, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--max-events", "100"]);
        Assert.Equal(1, code);
        Assert.Contains("--max-events 100 conflicts with the checkpoint's cap max_events=50", error, StringComparison.Ordinal);

        // A flag equal to the record is fine.
        (code, _, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--k", "10", "--embedding-cache", cache]);
        Assert.True(code == 0, error);

        // serve: the same refusal, before the store is opened.
        string store = Path.Combine(_dir, "serve.db");
        (code, _, error) = CliRunner.Run("serve", "--store", store, "--checkpoint", ckpt, "--k", "20", "--no-nearline", "--insecure-no-auth", "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, code);
        Assert.Contains("--k 20 conflicts with the checkpoint's count policy k=10", error, StringComparison.Ordinal);
        Assert.False(File.Exists(store));

        // A checkpoint written before the setup was recorded still evaluates, with a one-line note, from the flags.
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config.Remove("setup");
        File.WriteAllText(configPath, config.ToJsonString());
        (code, _, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--k", "10", "--max-events", "50", "--embedding-cache", cache, "--json"]);
        Assert.True(code == 0, error);
        Assert.Single(Lines(error), l => l.Contains("records no training setup", StringComparison.Ordinal));
    }

    [Fact]
    public void The_template_writers_version_is_a_flag_recorded_in_the_checkpoint_and_reused_by_evaluate()
    {
        string ckpt = Path.Combine(_dir, "v2");
        string cache = Path.Combine(_dir, "emb-v2.db");
        var (code, output, error) = CliRunner.Run(["train", .. Data, "--backbone", "din", "--epochs", "1", "--batch-size", "64", "--liber", "--k", "10", "--template-version", "template-v2", "--embedding-cache", cache, "--checkpoint", ckpt, "--json"]);
        Assert.True(code == 0, error);
        double trained = JsonDocument.Parse(output).RootElement.GetProperty("test").GetProperty("auc").GetDouble();
        string configPath = Path.Combine(ckpt, "config.json");
        Assert.Equal("template-v2", (string?)JsonNode.Parse(File.ReadAllText(configPath))!["setup"]!["liber"]!["uil"]!["template_version"]);

        // evaluate writes the same v2 texts from the record (a v1 text would encode differently and move the AUC) ...
        (code, output, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--embedding-cache", cache, "--json"]);
        Assert.True(code == 0, error);
        Assert.Equal(trained, JsonDocument.Parse(output).RootElement.GetProperty("metrics").GetProperty("auc").GetDouble(), 6);

        // ... and refuses the other wording.
        (code, _, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--template-version", "template-v1"]);
        Assert.Equal(1, code);
        Assert.Contains("--template-version template-v1 conflicts with the checkpoint's template writer template-v2", error, StringComparison.Ordinal);

        // learn writes v2 texts (their label) with the flag, v1 without.
        string texts = Path.Combine(_dir, "texts.jsonl");
        (code, _, error) = CliRunner.Run(["learn", .. Data, "--k", "10", "--template-version", "template-v2", "--out", texts]);
        Assert.True(code == 0, error);
        Assert.Contains(Liber.Interests.Template.TemplateInterestWriter.LabelV2, File.ReadAllText(texts), StringComparison.Ordinal);
    }

    [Fact]
    public void The_stats_encoder_trains_without_texts_is_recorded_and_evaluate_reproduces_it()
    {
        string ckpt = Path.Combine(_dir, "stats-encoder");
        var (code, output, error) = CliRunner.Run(["train", .. Data, "--backbone", "din", "--epochs", "1", "--batch-size", "64", "--liber", "--k", "10", "--encoder", "stats", "--checkpoint", ckpt, "--json"]);
        Assert.True(code == 0, error);
        JsonElement result = JsonDocument.Parse(output).RootElement;
        double trained = result.GetProperty("test").GetProperty("auc").GetDouble();
        Assert.Contains("statistics vectors of", error + output, StringComparison.Ordinal);
        Assert.Equal("stats", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(ckpt, "config.json")))!["setup"]!["liber"]!["encoder"]);

        (code, output, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--json"]);
        Assert.True(code == 0, error);
        Assert.Equal(trained, JsonDocument.Parse(output).RootElement.GetProperty("metrics").GetProperty("auc").GetDouble(), 6);

        (code, _, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--encoder", "minilm"]);
        Assert.Equal(1, code);
        Assert.Contains("--encoder minilm conflicts with the checkpoint's encoder stats", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_stats_readout_fusion_trains_on_statistics_vectors_round_trips_its_layout_and_refuses_text_encoders()
    {
        string ckpt = Path.Combine(_dir, "stats-readout");
        var (code, output, error) = CliRunner.Run(["train", .. Data, "--backbone", "din", "--epochs", "1", "--batch-size", "64", "--liber", "--k", "10", "--encoder", "stats", "--fusion", "stats-readout", "--checkpoint", ckpt, "--json"]);
        Assert.True(code == 0, error);
        double trained = JsonDocument.Parse(output).RootElement.GetProperty("test").GetProperty("auc").GetDouble();
        JsonNode fusion = JsonNode.Parse(File.ReadAllText(Path.Combine(ckpt, "config.json")))!["model"]!["fusion"]!;
        Assert.Equal("stats-readout", (string?)fusion["variant"]);
        int categories = (int)fusion["stats_layout"]!["categories"]!, decades = (int)fusion["stats_layout"]!["decades"]!;
        Assert.Equal((3 * categories) + decades + 4, (int)fusion["input_size"]!);
        Assert.True(categories > 0, "the synthetic world has categories");

        (code, output, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt, "--json"]);
        Assert.True(code == 0, error);
        Assert.Equal(trained, JsonDocument.Parse(output).RootElement.GetProperty("metrics").GetProperty("auc").GetDouble(), 6);

        (code, _, error) = CliRunner.Run(["train", .. Data, "--backbone", "din", "--liber", "--fusion", "stats-readout"]);
        Assert.Equal(1, code);
        Assert.Contains("--fusion stats-readout reads the stats encoder's vectors by position: add --encoder stats (got --encoder minilm)", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void A_truncated_model_bin_or_a_corrupt_config_is_one_line_naming_the_file()
    {
        string ckpt = Path.Combine(_dir, "plain");
        var (code, _, error) = CliRunner.Run(["train", .. Data, "--backbone", "din", "--epochs", "1", "--checkpoint", ckpt]);
        Assert.True(code == 0, error);
        string weights = Path.Combine(ckpt, "model.bin");
        byte[] bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..1000]);
        (code, _, error) = CliRunner.Run(["evaluate", .. Data, "--checkpoint", ckpt]);
        Assert.Equal(1, code);
        Assert.Equal($"liber: {weights}: weights truncated or corrupt; retrain with liber train --checkpoint, or copy the checkpoint folder again", Assert.Single(Lines(error)));

        string store = Path.Combine(_dir, "serve.db");
        (code, _, error) = CliRunner.Run("serve", "--store", store, "--checkpoint", ckpt, "--no-nearline", "--insecure-no-auth", "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, code);
        Assert.Contains($"{weights}: weights truncated or corrupt", Assert.Single(Lines(error)), StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(ckpt, "config.json"), "{ \"model\": [");
        foreach (string[] args in new[]
        {
            (string[])["evaluate", .. Data, "--checkpoint", ckpt],
            ["serve", "--store", store, "--checkpoint", ckpt, "--no-nearline", "--insecure-no-auth", "--urls", "http://127.0.0.1:0"],
        })
        {
            (code, _, error) = CliRunner.Run(args);
            Assert.Equal(1, code);
            string line = Assert.Single(Lines(error));
            Assert.Contains($"{Path.Combine(ckpt, "config.json")}: not a valid checkpoint config", line, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", line, StringComparison.Ordinal);
        }
    }
}
