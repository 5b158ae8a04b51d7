using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Models.Backbones;
using Liber.Models.Training;

namespace Liber.Models.Tests;

/// <summary>A checkpoint folder that cannot be used is a <see cref="CheckpointException"/> naming the file and the fix; the recorded setup round-trips.</summary>
[Collection(TorchCollection.Name)]
public sealed class CheckpointErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Save(string name, int embedding, CheckpointSetup? setup = null)
    {
        TorchRuntime.Configure(threads: 1, seed: 5);
        string dir = Path.Combine(_dir, name);
        using var model = new CtrModel(Fixture.Tables.Map, new ModelConfig { Backbone = "din", Options = new BackboneOptions { EmbeddingSize = embedding, Hidden = [16], AttentionHidden = [8] } });
        Checkpoint.Save(dir, model, new TrainOptions(), setup);
        return dir;
    }

    [Fact]
    public void A_truncated_model_bin_names_the_file_and_the_fix()
    {
        string dir = Save("truncated", 8);
        string weights = Path.Combine(dir, Checkpoint.WeightsFile);
        byte[] bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir));
        Assert.Contains(weights, e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated or corrupt", e.Message, StringComparison.Ordinal);
        Assert.Contains("retrain", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Weights_of_another_shape_name_the_mismatch()
    {
        string a = Save("a", 8);
        string b = Save("b", 16);
        File.Copy(Path.Combine(b, Checkpoint.WeightsFile), Path.Combine(a, Checkpoint.WeightsFile), overwrite: true);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(a));
        Assert.Contains("does not fit config.json and feature-map.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("copy the checkpoint folder again", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_config_names_the_file_and_line()
    {
        string dir = Save("config", 8);
        File.WriteAllText(Path.Combine(dir, Checkpoint.ConfigFile), "{ \"model\": ");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir));
        Assert.Contains(Path.Combine(dir, Checkpoint.ConfigFile), e.Message, StringComparison.Ordinal);
        Assert.Contains("not a valid checkpoint config", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_setup_round_trips_and_old_configs_without_it_still_load()
    {
        var setup = new CheckpointSetup
        {
            Dataset = new DatasetSetup { Kind = "csv", Threshold = 4, MinHistory = 5, HistoryLength = 20 },
            Liber = new LiberSetup
            {
                Policy = PolicySetup.From(new PartitionOptions { Policy = "count", K = 10 }),
                MaxPartitions = 32,
                Uil = new UilSetup { Backend = "template", Model = "template-v1", Mode = "two-call", TemplateVersion = "template-v1", Domain = "movies" },
                Encoder = "minilm",
                Fusion = "attention",
            },
        };
        string dir = Save("setup", 8, setup);
        CheckpointConfig read = Checkpoint.ReadConfig(dir);
        Assert.Equal(setup.Dataset, read.Setup!.Dataset);
        Assert.Equal(10, read.Setup.Liber!.Policy.K);
        Assert.Null(read.Setup.Liber.Policy.GapSeconds);
        Assert.Equal(10, read.Setup.Liber.Policy.ToOptions().K);
        Assert.Equal("count policy k=10", read.Setup.Liber.Policy.Describe());

        // A config.json written before the setup was recorded has no "setup" key and loads as before.
        string path = Path.Combine(dir, Checkpoint.ConfigFile);
        using (JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path)))
        {
            var old = doc.RootElement.EnumerateObject().Where(p => p.Name != "setup").ToDictionary(p => p.Name, p => p.Value.Clone());
            File.WriteAllText(path, JsonSerializer.Serialize(old));
        }

        (CtrModel model, CheckpointConfig config) = Checkpoint.Load(dir);
        using (model)
        {
            Assert.Null(config.Setup);
        }
    }
}
