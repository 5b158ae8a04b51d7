using System.Text.Json;

namespace Liber.Cli.Tests;

public sealed class TrainCommandTests
{
    private static readonly string[] Tiny = ["train", "--users", "30", "--events-per-user", "40", "--epochs", "2", "--batch-size", "64"];

    private static (int Code, string Out, string Err) Train(params string[] more) => CliRunner.Run([.. Tiny, .. more]);

    [Fact]
    public void Train_json_prints_the_documented_fields_and_one_thread_runs_repeat_exactly()
    {
        var (code, output, error) = Train("--backbone", "din", "--threads", "1", "--json");
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        foreach (string key in new[] { "valid", "test", "epochs", "best_epoch", "train_samples_per_second", "seconds" })
        {
            Assert.True(j.TryGetProperty(key, out _), $"missing {key}");
        }

        foreach (string split in new[] { "valid", "test" })
        {
            JsonElement s = j.GetProperty(split);
            Assert.InRange(s.GetProperty("auc").GetDouble(), 0, 1);
            Assert.True(s.GetProperty("logloss").GetDouble() > 0);
            Assert.True(s.GetProperty("gauc").ValueKind is JsonValueKind.Number or JsonValueKind.Null);
        }

        Assert.InRange(j.GetProperty("epochs").GetInt32(), 1, 2);
        Assert.InRange(j.GetProperty("best_epoch").GetInt32(), 1, j.GetProperty("epochs").GetInt32());

        var again = Train("--backbone", "din", "--threads", "1", "--json");
        JsonElement k = JsonDocument.Parse(again.Out).RootElement;
        Assert.Equal(j.GetProperty("valid").GetRawText(), k.GetProperty("valid").GetRawText());
        Assert.Equal(j.GetProperty("test").GetRawText(), k.GetProperty("test").GetRawText());
    }

    [Fact]
    public void Train_writes_a_checkpoint_when_asked()
    {
        string dir = Path.Combine(Path.GetTempPath(), "liber-train-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, error) = Train("--backbone", "deepfm", "--checkpoint", dir);
            Assert.True(code == 0, error);
            Assert.Contains("test AUC", output, StringComparison.Ordinal);
            foreach (string f in new[] { "model.bin", "config.json", "feature-map.json" })
            {
                Assert.True(File.Exists(Path.Combine(dir, f)), $"missing {f}");
            }
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void Cuda_without_cuda_libtorch_is_a_user_error_naming_the_package()
    {
        if (TorchSharp.torch.cuda.is_available())
        {
            return;
        }

        var (code, _, error) = Train("--backbone", "din", "--device", "cuda");
        Assert.Equal(1, code);
        Assert.Contains("libtorch-cuda-12.8-linux-x64", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_choices_are_user_errors()
    {
        Assert.NotEqual(0, Train("--backbone", "transformer").Code);
        Assert.NotEqual(0, Train().Code);
        var (code, _, error) = Train("--backbone", "din", "--liber", "--backend", "openai");
        Assert.Equal(1, code);
        Assert.Contains("--endpoint", error, StringComparison.Ordinal);
        Assert.Equal(1, Train("--backbone", "din", "--threads", "0").Code);
    }

    [Fact]
    public void Train_with_liber_runs_the_whole_chain_and_a_rerun_reuses_the_caches()
    {
        string dir = Directory.CreateTempSubdirectory("liber-train-").FullName;
        try
        {
            string[] args = ["--backbone", "din", "--liber", "--k", "10", "--cache", Path.Combine(dir, "llm.db"), "--embedding-cache", Path.Combine(dir, "emb.db"), "--json"];
            var (code, output, error) = Train(args);
            Assert.True(code == 0, error);
            JsonElement j = JsonDocument.Parse(output).RootElement;
            Assert.StartsWith("din+liber", j.GetProperty("backbone").GetString(), StringComparison.Ordinal);
            JsonElement acc = j.GetProperty("liber").GetProperty("accounting");
            long partitions = acc.GetProperty("partitions").GetInt64();
            Assert.True(partitions > 30, $"{partitions} partitions");
            Assert.Equal(partitions, acc.GetProperty("texts_done").GetInt64());
            Assert.Equal(0, acc.GetProperty("llm_calls").GetInt64());
            Assert.Equal(384, acc.GetProperty("dimension").GetInt64());
            Assert.True(acc.GetProperty("encoder_calls").GetInt64() > 0);
            foreach (string stage in new[] { "partition_ms", "uil_ms", "encode_ms" })
            {
                Assert.True(acc.GetProperty(stage).GetInt64() >= 0, stage);
            }

            // The cold run encoded every text with the model, which takes measurable time.
            Assert.True(acc.GetProperty("encode_ms").GetInt64() > 0);

            var again = Train(args);
            Assert.True(again.Code == 0, again.Err);
            JsonElement acc2 = JsonDocument.Parse(again.Out).RootElement.GetProperty("liber").GetProperty("accounting");
            Assert.Equal(0, acc2.GetProperty("encoder_calls").GetInt64());
            Assert.True(acc2.GetProperty("encoder_cache_hits").GetInt64() > 0);
            Assert.Equal(j.GetProperty("test").GetProperty("auc").GetDouble(), JsonDocument.Parse(again.Out).RootElement.GetProperty("test").GetProperty("auc").GetDouble());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_gbdt_peer_trains_with_the_same_json_and_refuses_liber_and_checkpoints()
    {
        var (code, output, error) = Train("--backbone", "gbdt", "--json");
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        Assert.Equal("gbdt", j.GetProperty("backbone").GetString());
        Assert.InRange(j.GetProperty("test").GetProperty("auc").GetDouble(), 0, 1);
        Assert.InRange(j.GetProperty("valid").GetProperty("auc").GetDouble(), 0, 1);
        Assert.Equal(j.GetProperty("seed").GetInt64(), j.GetProperty("gbdt").GetProperty("seed").GetInt32());
        Assert.True(j.GetProperty("epochs").GetInt32() >= 1, "trees trained");

        // Lifelong buckets under valid and test, for every backbone's output.
        JsonElement buckets = j.GetProperty("test").GetProperty("buckets");
        Assert.Equal(["0-49", "50-199", "200-999", "1000+"], buckets.EnumerateObject().Select(p => p.Name));
        Assert.Equal(j.GetProperty("test").GetProperty("samples").GetInt32(), buckets.EnumerateObject().Sum(p => p.Value.GetProperty("samples").GetInt32()));

        // The statistics follow --stats as for the neural backbones; --gbdt-partitions adds the closed partitions' columns.
        var (treesCode, treesOut, treesErr) = Train("--backbone", "gbdt", "--stats", "off", "--gbdt-partitions", "5", "--json");
        Assert.True(treesCode == 0, treesErr);
        JsonElement trees = JsonDocument.Parse(treesOut).RootElement;
        Assert.Equal(5, trees.GetProperty("gbdt").GetProperty("partitions").GetInt32());
        Assert.False(trees.GetProperty("config").GetProperty("options").GetProperty("stats").GetBoolean());
        Assert.NotEqual(j.GetProperty("test").GetRawText(), trees.GetProperty("test").GetRawText());
        var neural = Train("--backbone", "din", "--gbdt-partitions", "5");
        Assert.Equal(1, neural.Code);
        Assert.Contains("--gbdt-partitions applies to --backbone gbdt only (got --backbone din)", neural.Err, StringComparison.Ordinal);
        Assert.Single(neural.Err.Trim().Split('\n'));

        foreach (string flag in new[] { "--liber", "--checkpoint" })
        {
            string[] extra = flag == "--liber" ? [flag] : [flag, Path.Combine(Path.GetTempPath(), "liber-no-ckpt")];
            var refused = Train(["--backbone", "gbdt", .. extra]);
            Assert.Equal(1, refused.Code);
            Assert.Contains($"--backbone gbdt {flag}", refused.Err, StringComparison.Ordinal);
            Assert.Single(refused.Err.Trim().Split('\n'));
        }
    }

    [Fact]
    public void Ratings_can_be_switched_off_for_the_rating_blind_control()
    {
        var (code, output, error) = Train("--backbone", "din", "--ratings", "none", "--json");
        Assert.True(code == 0, error);
        Assert.Equal("None", JsonDocument.Parse(output).RootElement.GetProperty("config").GetProperty("options").GetProperty("ratings").ToString());
        Assert.Equal(1, Train("--backbone", "din", "--ratings", "stars").Code);
    }
}
