using System.Text.Json;

namespace Liber.Cli.Tests;

/// <summary>train and run share one set of training flags; for run a flag given wins over the file and its grid's variants.</summary>
public sealed class TrainingFlagsTests : IDisposable
{
    private const string Grid = """
        { "name": "flags", "dataset": { "kind": "synthetic", "users": 30, "events_per_user": 40 },
          "training": { "epochs": 4, "lr": 0.002 },
          "grid": { "backbones": ["din"], "liber": [false], "seeds": [1], "training": [{ "lr": 0.0005 }, { "weight_decay": 0.01 }] } }
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("liber-flags-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (string[] Labels, string[] Hashes) List(params string[] flags)
    {
        string file = Path.Combine(_dir, "grid.json");
        File.WriteAllText(file, Grid);
        var (code, output, error) = CliRunner.Run(["run", "-c", file, "--out", Path.Combine(_dir, "runs"), "--list", "--json", .. flags]);
        Assert.True(code == 0, error);
        JsonElement[] runs = [.. JsonDocument.Parse(output).RootElement.GetProperty("runs").EnumerateArray()];
        return ([.. runs.Select(r => r.GetProperty("label").GetString()!)], [.. runs.Select(r => r.GetProperty("hash").GetString()!)]);
    }

    [Fact]
    public void Without_flags_the_file_and_its_variants_decide()
    {
        (string[] labels, _) = List();
        Assert.Equal(["din-lr0.0005-s1", "din-lr0.002-wd0.01-s1"], labels);
    }

    [Fact]
    public void A_flag_overrides_the_file_and_every_variant_and_changes_the_runs_identity()
    {
        (string[] plain, string[] plainHashes) = List();
        (string[] labels, _) = List("--lr", "0.01");
        Assert.Equal(["din-lr0.01-s1", "din-lr0.01-wd0.01-s1"], labels); // the variants' lr and the file's lr both give way

        (string[] epochs, string[] epochHashes) = List("--epochs", "2");
        Assert.Equal(plain, epochs); // epochs is not in the label ...
        Assert.Empty(epochHashes.Intersect(plainHashes)); // ... but the resolved config, and so the run folder, differ
    }

    [Theory]
    [InlineData("run", "--dropout", "1.5", "--dropout 1.5: out of range")]
    [InlineData("run", "--epochs", "0", "--epochs 0: out of range")]
    [InlineData("train", "--weight-decay", "-1", "--weight-decay -1: out of range")]
    [InlineData("train", "--user-id", "maybe", "--user-id")]
    [InlineData("train", "--numeric", "bins", "--numeric")]
    [InlineData("run", "--stats", "users", "--stats")]
    [InlineData("train", "--set", "no_such_key=1", "backbone option no_such_key: unknown")]
    [InlineData("run", "--set", "hidden=200,x", "backbone option hidden: 200,x is not a list")]
    [InlineData("run", "--set", "attention_heads=0", "backbone option attention_heads has an invalid value 0")]
    [InlineData("train", "--set", "embedding_size", "--set embedding_size: expected key=value")]
    public void Bad_values_are_one_line_errors_for_both_verbs(string verb, string flag, string value, string message)
    {
        string file = Path.Combine(_dir, "grid.json");
        File.WriteAllText(file, Grid);
        string[] args = verb == "run" ? ["run", "-c", file, "--list", flag, value] : ["train", "--backbone", "din", "--users", "20", flag, value];
        var (code, _, error) = CliRunner.Run(args);
        Assert.Equal(1, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Train_reads_the_shared_flags()
    {
        var (code, output, error) = CliRunner.Run("train", "--backbone", "din", "--users", "40", "--events-per-user", "40", "--epochs", "1", "--patience", "1", "--dropout", "0.1", "--user-id", "off", "--json");
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        Assert.Equal(1, j.GetProperty("best_epoch").GetInt32());
    }

    [Fact]
    public void Train_sets_any_backbone_option_and_records_it_in_the_config()
    {
        var (code, output, error) = CliRunner.Run("train", "--backbone", "autoint", "--users", "40", "--events-per-user", "40", "--epochs", "1", "--set", "embedding_size=8", "--set", "hidden=16", "--set", "attention_heads=4", "--stats", "off", "--recent", "on", "--ratings", "sentiment", "--numeric", "periodic", "--json");
        Assert.True(code == 0, error);
        JsonElement o = JsonDocument.Parse(output).RootElement.GetProperty("config").GetProperty("options");
        Assert.Equal(8, o.GetProperty("embedding_size").GetInt32());
        Assert.Equal([16], o.GetProperty("hidden").EnumerateArray().Select(h => h.GetInt32()));
        Assert.Equal(4, o.GetProperty("attention_heads").GetInt32());
        Assert.False(o.GetProperty("stats").GetBoolean());
        Assert.True(o.GetProperty("recent").GetBoolean());
        Assert.Equal("Sentiment", o.GetProperty("ratings").GetString());
        Assert.Equal("Periodic", o.GetProperty("numeric").GetString());
        Assert.False(o.TryGetProperty("stats_scope", out _)); // the default (all) is left out of config files
    }

    [Fact]
    public void Train_stats_item_reads_the_items_statistics_only_and_records_it()
    {
        var (code, output, error) = CliRunner.Run("train", "--backbone", "din", "--users", "40", "--events-per-user", "40", "--epochs", "1", "--stats", "item", "--json");
        Assert.True(code == 0, error);
        JsonElement o = JsonDocument.Parse(output).RootElement.GetProperty("config").GetProperty("options");
        Assert.True(o.GetProperty("stats").GetBoolean());
        Assert.Equal("Item", o.GetProperty("stats_scope").GetString());
    }

    [Fact]
    public void Run_stats_item_labels_the_runs_item_stats_and_changes_their_identity()
    {
        (string[] on, string[] onHashes) = List("--stats", "on");
        (string[] item, string[] itemHashes) = List("--stats", "item");
        Assert.All(on, l => Assert.Contains("-stats", l, StringComparison.Ordinal));
        Assert.All(item, l => Assert.Contains("-item-stats", l, StringComparison.Ordinal));
        Assert.Empty(itemHashes.Intersect(onHashes));
        (_, string[] off) = List("--stats", "off");
        Assert.Empty(off.Intersect(itemHashes));
    }

    [Fact]
    public void Run_set_changes_the_runs_identity_and_not_their_labels()
    {
        (string[] plain, string[] plainHashes) = List();
        (string[] set, string[] setHashes) = List("--set", "cross_layers=2");
        Assert.Equal(plain, set);
        Assert.Empty(setHashes.Intersect(plainHashes));
        (_, string[] again) = List("--set", "cross_layers=2");
        Assert.Equal(setHashes, again);
    }
}
