using System.Text.Json;
using System.Text.Json.Serialization;
using Liber.Models.Features;

namespace Liber.Models.Training;

/// <summary>What config.json of a checkpoint holds: the resolved model configuration and the training options.</summary>
public sealed record CheckpointConfig
{
    /// <summary>The model's resolved configuration.</summary>
    [JsonPropertyName("model")] public required ModelConfig Model { get; init; }

    /// <summary>The training options of the run, when it was trained.</summary>
    [JsonPropertyName("training")] public TrainOptions? Training { get; init; }
}

/// <summary>
/// A trained model on disk: <c>model.bin</c> (TorchSharp state dict), <c>config.json</c> (resolved model config and
/// training options) and <c>feature-map.json</c>. <see cref="Load"/> rebuilds the model for scoring.
/// </summary>
public static class Checkpoint
{
    /// <summary>State dict file name.</summary>
    public const string WeightsFile = "model.bin";

    /// <summary>Config file name.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Feature map file name.</summary>
    public const string FeatureMapFile = "feature-map.json";

    /// <summary>Vocabulary file name (external ids and item features for online scoring, see <see cref="Serving.CheckpointVocabulary"/>).</summary>
    public const string VocabularyFile = "vocabulary.json";

    /// <summary>Options of config.json: indented, unknown keys are errors.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Writes a checkpoint into <paramref name="directory"/> (created if needed).</summary>
    public static void Save(string directory, CtrModel model, TrainOptions? training = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        model.save(Path.Combine(directory, WeightsFile));
        var config = new CheckpointConfig { Model = model.Config, Training = training };
        File.WriteAllText(Path.Combine(directory, ConfigFile), JsonSerializer.Serialize(config, Json));
        model.Map.Save(Path.Combine(directory, FeatureMapFile));
    }

    /// <summary>Reloads a checkpoint's model (on the CPU, in eval mode) and its config.</summary>
    public static (CtrModel Model, CheckpointConfig Config) Load(string directory)
    {
        string configPath = Path.Combine(directory, ConfigFile);
        foreach (string f in new[] { WeightsFile, ConfigFile, FeatureMapFile })
        {
            if (!File.Exists(Path.Combine(directory, f)))
            {
                throw new FileNotFoundException($"checkpoint {directory} has no {f}", Path.Combine(directory, f));
            }
        }

        CheckpointConfig config;
        try
        {
            config = JsonSerializer.Deserialize<CheckpointConfig>(File.ReadAllText(configPath), Json)
                ?? throw new InvalidDataException($"{configPath}: empty config");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath}: not a valid checkpoint config: {e.Message}", e);
        }

        FeatureMap map = FeatureMap.Load(Path.Combine(directory, FeatureMapFile));
        var model = new CtrModel(map, config.Model);
        model.load(Path.Combine(directory, WeightsFile));
        model.eval();
        return (model, config);
    }
}
