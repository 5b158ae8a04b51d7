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

    /// <summary>The data set and LIBER setup it was trained under; null in checkpoints written before it was recorded.</summary>
    [JsonPropertyName("setup")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CheckpointSetup? Setup { get; init; }
}

/// <summary>A checkpoint folder that cannot be loaded (truncated or corrupt file, weights that do not fit the config): a user error naming the file and the fix.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the error.</summary>
    public CheckpointException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with its cause.</summary>
    public CheckpointException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates an error without a message (for serializers).</summary>
    public CheckpointException()
    {
    }
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
    public static void Save(string directory, CtrModel model, TrainOptions? training = null, CheckpointSetup? setup = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        model.save(Path.Combine(directory, WeightsFile));
        var config = new CheckpointConfig { Model = model.Config, Training = training, Setup = setup };
        File.WriteAllText(Path.Combine(directory, ConfigFile), JsonSerializer.Serialize(config, Json));
        model.Map.Save(Path.Combine(directory, FeatureMapFile));
    }

    /// <summary>Reloads a checkpoint's model (on the CPU, in eval mode) and its config.</summary>
    /// <exception cref="FileNotFoundException">A file of the checkpoint is missing.</exception>
    /// <exception cref="CheckpointException">A file is corrupt or truncated, or the weights do not fit the config; the message names the file and the fix.</exception>
    public static (CtrModel Model, CheckpointConfig Config) Load(string directory)
    {
        string configPath = Path.Combine(directory, ConfigFile);
        foreach (string f in new[] { WeightsFile, ConfigFile, FeatureMapFile })
        {
            if (!File.Exists(Path.Combine(directory, f)))
            {
                throw new FileNotFoundException($"checkpoint {directory} has no {f}: give the folder that liber train --checkpoint wrote", Path.Combine(directory, f));
            }
        }

        CheckpointConfig config = ReadConfig(directory);
        string mapPath = Path.Combine(directory, FeatureMapFile);
        FeatureMap map;
        try
        {
            map = FeatureMap.Load(mapPath);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException or ArgumentException or FormatException)
        {
            string what = e.Message.StartsWith(mapPath, StringComparison.Ordinal) ? FirstLine(e.Message) : $"{mapPath}: not a valid feature map ({FirstLine(e.Message)})";
            throw new CheckpointException($"{what}; {Fix}", e);
        }

        CtrModel model;
        try
        {
            model = new CtrModel(map, config.Model);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException($"{configPath}: the model config does not fit {FeatureMapFile} ({FirstLine(e.Message)}); {Fix}", e);
        }

        string weightsPath = Path.Combine(directory, WeightsFile);
        try
        {
            model.load(weightsPath);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // TorchSharp reads the state dict with a BinaryReader: a truncated file ends in EndOfStreamException, a file
            // of another model in ArgumentException (mismatched shapes or names); either way the folder cannot be used.
            model.Dispose();
            string what = e is EndOfStreamException || new FileInfo(weightsPath).Length == 0
                ? "truncated or corrupt"
                : $"does not fit {ConfigFile} and {FeatureMapFile} ({FirstLine(e.Message)})";
            throw new CheckpointException($"{weightsPath}: weights {what}; {Fix}", e);
        }

        model.eval();
        return (model, config);
    }

    /// <summary>Reads config.json of a checkpoint alone (model config, training options, recorded setup).</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="CheckpointException">The file is not a valid checkpoint config; the message names it and the fix.</exception>
    public static CheckpointConfig ReadConfig(string directory)
    {
        string configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"checkpoint {directory} has no {ConfigFile}: give the folder that liber train --checkpoint wrote", configPath);
        }

        try
        {
            return JsonSerializer.Deserialize<CheckpointConfig>(File.ReadAllText(configPath), Json)
                ?? throw new CheckpointException($"{configPath}: holds null, not a checkpoint config; {Fix}");
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long l ? $" (line {l + 1}{(e.Path is null ? "" : $", {e.Path}")})" : "";
            throw new CheckpointException($"{configPath}: not a valid checkpoint config{where}: {e.Message.Split(" Path:")[0].TrimEnd().TrimEnd('.')}; {Fix}", e);
        }
    }

    private const string Fix = "retrain with liber train --checkpoint, or copy the checkpoint folder again";

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
