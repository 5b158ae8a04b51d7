namespace Liber.Cli.Tests;

/// <summary><c>liber run</c> and <c>run --list</c> check every cell of every file before the first run: rc 1, every problem named.</summary>
public sealed class RunValidationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-runcheck-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json)
    {
        string path = Path.Combine(_dir, "exp.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Bad_cells_fail_run_and_list_before_anything_runs_naming_each()
    {
        string config = Write("""
            {
              "name": "bad",
              "dataset": { "kind": "parquet", "path": "no/such/folder" },
              "training": { "epochs": 1, "batch_size": 0 },
              "grid": {
                "backbones": ["din", "dinn"],
                "liber": [false, true],
                "fusions": ["attention", "sum"],
                "policies": [{ "policy": "count", "k": 0 }, { "policy": "gap", "k": 5 }, { "policy": "tumbling" }],
                "modes": ["two-call"],
                "seeds": [1]
              }
            }
            """);
        string output = Path.Combine(_dir, "runs");
        foreach (string[] extra in new[] { (string[])[], ["--list"] })
        {
            var (code, stdout, error) = CliRunner.Run(["run", "--config", config, "--out", output, .. extra]);
            Assert.Equal(1, code);
            Assert.DoesNotContain("pending", stdout, StringComparison.Ordinal);
            foreach (string expected in new[]
            {
                "$.grid.backbones[1]: 'dinn' is not a backbone; accepted: din,",
                "$.dataset.kind: 'parquet' is not a data set kind; accepted:",
                "$.dataset.path: 'no/such/folder' does not exist",
                "$.training.batch_size: 0 is out of range; it must be >= 1",
                "$.grid.fusions[1]: 'sum' is not a fusion variant; accepted: attention,",
                "$.grid.policies[0].k: 0 is out of range; the count policy needs k >= 1",
                "$.grid.policies[1].k: applies to the count policy, not gap",
                "$.grid.policies[2].policy: 'tumbling' is not a partition policy; accepted: count, gap, window, drift",
            })
            {
                Assert.Contains(expected, error, StringComparison.Ordinal);
            }

            Assert.Contains("8 problems, nothing was run", error, StringComparison.Ordinal);
            Assert.False(Directory.Exists(output), "nothing may run (or be created) before every cell is checked");
        }
    }

    [Fact]
    public void A_grid_whose_second_backbone_is_unknown_trains_nothing()
    {
        string config = Write("""
            { "name": "late", "dataset": { "kind": "synthetic", "users": 20, "events_per_user": 30 }, "training": { "epochs": 1 },
              "grid": { "backbones": ["din", "dinn"], "liber": [false], "seeds": [1] } }
            """);
        string output = Path.Combine(_dir, "runs");
        var (code, _, error) = CliRunner.Run("run", "--config", config, "--out", output);
        Assert.Equal(1, code);
        Assert.Contains($"{config} at $.grid.backbones[1]: 'dinn' is not a backbone", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Gbdt_partitions_label_the_gbdt_runs_and_are_refused_for_neural_backbones()
    {
        string config = Write("""
            { "name": "trees", "dataset": { "kind": "synthetic", "users": 20, "events_per_user": 30 }, "training": { "epochs": 1 },
              "grid": { "backbones": ["gbdt"], "liber": [false], "seeds": [1], "training": [{ "stats": false }, { "stats": false, "gbdt_partitions": 20 }] } }
            """);
        var (code, stdout, error) = CliRunner.Run("run", "--config", config, "--out", Path.Combine(_dir, "runs"), "--list");
        Assert.True(code == 0, error);
        Assert.Contains("gbdt-no-stats-s1", stdout, StringComparison.Ordinal);
        Assert.Contains("gbdt-no-stats-partitions20-s1", stdout, StringComparison.Ordinal);

        string mixed = Write("""
            { "name": "mixed", "dataset": { "kind": "synthetic", "users": 20, "events_per_user": 30 }, "training": { "epochs": 1, "gbdt_partitions": 0 },
              "grid": { "backbones": ["gbdt", "din"], "liber": [false], "seeds": [1] } }
            """);
        var refused = CliRunner.Run("run", "--config", mixed, "--out", Path.Combine(_dir, "runs"), "--list");
        Assert.Equal(1, refused.Code);
        Assert.Contains("$.training.gbdt_partitions: 0 is out of range; the partition size K must be >= 1", refused.Err, StringComparison.Ordinal);
        Assert.Contains("$.training.gbdt_partitions: applies to the gbdt peer only, but grid.backbones holds 'din'", refused.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_stats_readout_fusion_needs_the_stats_encoder()
    {
        string config = Write("""
            { "name": "readout", "dataset": { "kind": "synthetic", "users": 20, "events_per_user": 30 }, "training": { "epochs": 1 },
              "liber": { "encoder": "minilm" },
              "grid": { "backbones": ["din"], "liber": [true], "fusions": ["attention", "stats-readout"], "policies": [{ "policy": "count", "k": 10 }], "seeds": [1] } }
            """);
        var (code, _, error) = CliRunner.Run("run", "--config", config, "--out", Path.Combine(_dir, "runs"), "--list");
        Assert.Equal(1, code);
        Assert.Contains("$.grid.fusions[1]: 'stats-readout' reads the stats encoder's vectors by position, but liber.encoder is 'minilm'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("grid.fusions[0]", error, StringComparison.Ordinal);
    }
}
