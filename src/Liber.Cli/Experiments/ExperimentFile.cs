using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Liber.Core.Partitioning;

namespace Liber.Cli.Experiments;

/// <summary>
/// An experiment file (<c>experiments/&lt;name&gt;.json</c>): one data set, shared sample/training/LIBER settings, and a
/// grid whose cross product gives the runs. Unknown keys are errors naming their JSON path. Relative paths are
/// resolved against the current folder (run from the repository root).
/// </summary>
public sealed record ExperimentFile
{
    /// <summary>Experiment name (also the folder under the output root).</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>Free text.</summary>
    [JsonPropertyName("description")] public string? Description { get; init; }

    /// <summary>The data set.</summary>
    [JsonPropertyName("dataset")] public required DatasetSpec Dataset { get; init; }

    /// <summary>Sample construction.</summary>
    [JsonPropertyName("samples")] public SamplesSpec Samples { get; init; } = new();

    /// <summary>Training settings shared by every run.</summary>
    [JsonPropertyName("training")] public TrainingSpec Training { get; init; } = new();

    /// <summary>Command-line overrides applied to every cell's training last (after the grid's variants): flags &gt; file. Null: none.</summary>
    [JsonIgnore] public Func<TrainingSpec, TrainingSpec>? Overrides { get; init; }

    /// <summary>LIBER settings shared by every run with LIBER on.</summary>
    [JsonPropertyName("liber")] public LiberSpec Liber { get; init; } = new();

    /// <summary>The grid.</summary>
    [JsonPropertyName("grid")] public required GridSpec Grid { get; init; }

    /// <summary>Strict reading options: unknown keys are errors, comments and trailing commas allowed.</summary>
    public static JsonSerializerOptions ReadOptions { get; } = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads and validates a file; errors name the file, the JSON path and the line.</summary>
    /// <param name="path">The experiment file.</param>
    /// <param name="checkFiles">Also require the data set's folder and mapping file to exist (before running; listing a grid elsewhere needs no data).</param>
    public static ExperimentFile Load(string path, bool checkFiles = false)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"experiment file {path} does not exist", path);
        }

        ExperimentFile? file;
        try
        {
            file = JsonSerializer.Deserialize<ExperimentFile>(File.ReadAllText(path), ReadOptions);
        }
        catch (JsonException e)
        {
            string where = e.Path is null ? "" : $" at {e.Path}";
            string line = e.LineNumber is long l ? $", line {l + 1}" : "";
            throw new ArgumentException($"{path}{where}{line}: {e.Message.Split(" Path:")[0]}", e);
        }

        if (file is null)
        {
            throw new ArgumentException($"{path}: the file holds null, not an experiment");
        }

        file.Validate(path, checkFiles);
        return file;
    }

    /// <summary>Checks the values that JSON types cannot (see <see cref="ExperimentChecks"/>): every problem of every cell, before any runs.</summary>
    public void Validate(string path, bool checkFiles = false)
    {
        IReadOnlyList<string> problems = ExperimentChecks.Problems(this, checkFiles);
        if (problems.Count == 1)
        {
            throw new ArgumentException($"{path} at {problems[0]}; nothing was run");
        }

        if (problems.Count > 1)
        {
            throw new ArgumentException($"{path}: {problems.Count} problems, nothing was run:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems));
        }
    }
}

/// <summary>Which data set to load.</summary>
public sealed record DatasetSpec
{
    /// <summary>Reader kind (movielens-100k, movielens-1m, movielens-latest, csv, synthetic).</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }

    /// <summary>Folder (not for synthetic).</summary>
    [JsonPropertyName("path")] public string? Path { get; init; }

    /// <summary>csv: mapping file.</summary>
    [JsonPropertyName("mapping")] public string? Mapping { get; init; }

    /// <summary>fail or skip.</summary>
    [JsonPropertyName("on_bad_row")] public string OnBadRow { get; init; } = "fail";

    /// <summary>synthetic: users.</summary>
    [JsonPropertyName("users")] public int? Users { get; init; }

    /// <summary>synthetic: mean events per user.</summary>
    [JsonPropertyName("events_per_user")] public int? EventsPerUser { get; init; }

    /// <summary>synthetic: world seed.</summary>
    [JsonPropertyName("world_seed")] public int? WorldSeed { get; init; }
}

/// <summary>Sample settings (protocol sections 2-4).</summary>
public sealed record SamplesSpec
{
    // The library's defaults (SampleOptions): one place for each.
    private static readonly Liber.Core.Streams.SampleOptions D = new();

    /// <summary>L.</summary>
    [JsonPropertyName("history_length")] public int HistoryLength { get; init; } = D.HistoryLength;

    /// <summary>Minimum earlier events of a sample.</summary>
    [JsonPropertyName("min_history")] public int MinHistory { get; init; } = D.MinHistory;

    /// <summary>Label threshold (null: the data set's default).</summary>
    [JsonPropertyName("threshold")] public float? Threshold { get; init; }

    /// <summary>Implicit data: negatives drawn per positive (null: the library's default; left out of the resolved config when null).</summary>
    [JsonPropertyName("negatives")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Negatives { get; init; }

    /// <summary>Implicit data: popularity or uniform (null: the library's default; left out of the resolved config when null).</summary>
    [JsonPropertyName("negative_sampling")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(JsonStringEnumConverter<Liber.Core.Streams.NegativeSampling>))]
    public Liber.Core.Streams.NegativeSampling? NegativeSampling { get; init; }

    /// <summary>The library's sample options these settings give.</summary>
    public Liber.Core.Streams.SampleOptions Options() => D with
    {
        HistoryLength = HistoryLength,
        MinHistory = MinHistory,
        Threshold = Threshold,
        Negatives = Negatives,
        NegativeSampling = NegativeSampling ?? D.NegativeSampling,
    };
}

/// <summary>Training settings.</summary>
public sealed record TrainingSpec
{
    // The library's defaults (TrainOptions): one place for each; the resolved config still records every value.
    private static readonly Liber.Models.Training.TrainOptions D = new();

    /// <summary>Most epochs.</summary>
    [JsonPropertyName("epochs")] public int Epochs { get; init; } = D.Epochs;

    /// <summary>Early-stopping patience.</summary>
    [JsonPropertyName("patience")] public int Patience { get; init; } = D.Patience;

    /// <summary>Batch size.</summary>
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = D.BatchSize;

    /// <summary>AdamW learning rate.</summary>
    [JsonPropertyName("lr")] public double LearningRate { get; init; } = D.LearningRate;

    /// <summary>AdamW weight decay.</summary>
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; }

    /// <summary>A label of the values that differ from the defaults ("lr0.0003-wd0.01-do0.2"), empty for the defaults.</summary>
    public string VariantLabel()
    {
        var parts = new List<string>();
        if (LearningRate != D.LearningRate)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"lr{LearningRate:0.######}"));
        }

        if (WeightDecay != 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"wd{WeightDecay:0.######}"));
        }

        if (Dropout is > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"do{Dropout:0.###}"));
        }

        if (UserId == false)
        {
            parts.Add("no-user-id");
        }

        bool itemStats = Backbone?.StatsScope == Liber.Models.Backbones.StatsScope.Item && (Stats ?? Backbone.Stats);
        if (Stats is bool stats)
        {
            parts.Add(!stats ? "no-stats" : itemStats ? "item-stats" : "stats");
        }
        else if (itemStats)
        {
            parts.Add("item-stats");
        }

        if (Recent == true)
        {
            parts.Add("recent");
        }

        if (Backbone?.Numeric == Liber.Models.Backbones.NumericEncoding.Periodic)
        {
            parts.Add("periodic");
        }

        if (GbdtPartitions is int k)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"partitions{k}"));
        }

        return string.Join('-', parts);
    }

    /// <summary>Dropout after each hidden layer of the head, over <see cref="Backbone"/>'s (null: the backbone record's; left out of the resolved config when null, so older run hashes stay valid).</summary>
    [JsonPropertyName("dropout")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Dropout { get; init; }

    /// <summary>Whether the model embeds the user id (null: yes; left out of the resolved config when null).</summary>
    [JsonPropertyName("user_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? UserId { get; init; }

    /// <summary>Whether the model reads the point-in-time statistics (null: the default; left out of the resolved config when null).</summary>
    [JsonPropertyName("stats")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Stats { get; init; }

    /// <summary>Whether the model reads the short-term window's statistics (null: off, the record's default; left out of the resolved config when null).</summary>
    [JsonPropertyName("recent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Recent { get; init; }

    /// <summary>
    /// The library's backbone options record (<see cref="Liber.Models.Backbones.BackboneOptions"/>, every key of it: embedding_size,
    /// hidden, attention_heads, cross_layers ...), embedded as it is; null: the library's defaults. <see cref="Dropout"/>,
    /// <see cref="UserId"/> and <see cref="Stats"/> (and the grid's variants of them) apply over it. Left out of the resolved
    /// config when null.
    /// </summary>
    [JsonPropertyName("backbone")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Liber.Models.Backbones.BackboneOptions? Backbone { get; init; }

    /// <summary>The backbone options a run trains with: <see cref="Backbone"/> (or the library's defaults) with dropout, user id and statistics over it.</summary>
    public Liber.Models.Backbones.BackboneOptions BackboneOptions()
    {
        Liber.Models.Backbones.BackboneOptions b = Backbone ?? new();
        bool stats = Stats ?? b.Stats;
        return b with
        {
            Dropout = Dropout ?? b.Dropout,
            UserId = UserId ?? b.UserId,
            Stats = stats,
            StatsScope = stats ? b.StatsScope : Liber.Models.Backbones.StatsScope.All, // the scope means nothing without statistics
            Recent = Recent ?? b.Recent,
        };
    }

    /// <summary>
    /// The gbdt peer only: the partition size K of its closed count-K partitions' columns (null: none; left out of the resolved
    /// config when null, so older run hashes stay valid).
    /// </summary>
    [JsonPropertyName("gbdt_partitions")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? GbdtPartitions { get; init; }

    /// <summary>Intra-op threads.</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; } = 1;

    /// <summary>cpu or cuda.</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "cpu";
}

/// <summary>LIBER settings shared by the runs with LIBER on.</summary>
public sealed record LiberSpec
{
    /// <summary>UIL backend: template, openai or llama.</summary>
    [JsonPropertyName("backend")] public string Backend { get; init; } = "template";

    /// <summary>openai: base URL.</summary>
    [JsonPropertyName("endpoint")] public string? Endpoint { get; init; }

    /// <summary>openai: model name.</summary>
    [JsonPropertyName("model")] public string? Model { get; init; }

    /// <summary>llama: GGUF file.</summary>
    [JsonPropertyName("gguf")] public string? Gguf { get; init; }

    /// <summary>Prompt domain (movies, music, generic); null picks by data set.</summary>
    [JsonPropertyName("domain")] public string? Domain { get; init; }

    /// <summary>template backend: the writer's wording (template-v1, template-v2); null: template-v1 (left out of the resolved config when null, so older run hashes stay valid).</summary>
    [JsonPropertyName("template_version")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TemplateVersion { get; init; }

    /// <summary>
    /// The backend as labels and report rows show it: <c>stats-vector</c> for the stats encoder (no LLM, no text), the
    /// template writer's version where it is not the default (template-v2), else the backend.
    /// </summary>
    public string BackendLabel() =>
        Encoder == global::Liber.Pipeline.ChainEncoders.Stats ? "stats-vector"
        : Backend == "template" && TemplateVersion is string v && v != global::Liber.Interests.Template.TemplateInterestWriter.Version ? v : Backend;

    /// <summary>Encoder: minilm, arctic-xs or openai (of the interest texts), or stats (the partitions' statistics vectors, not LLM).</summary>
    [JsonPropertyName("encoder")] public string Encoder { get; init; } = "minilm";

    /// <summary>P: visible partitions per sample.</summary>
    [JsonPropertyName("max_partitions")] public int MaxPartitions { get; init; } = 32;

    /// <summary>LLM requests in flight.</summary>
    [JsonPropertyName("max_in_flight")] public int MaxInFlight { get; init; } = 16;

    /// <summary>Hard cap: events per partition.</summary>
    [JsonPropertyName("max_events")] public int MaxEvents { get; init; } = new PartitionCaps().MaxEvents;

    /// <summary>Hard cap: prompt tokens per partition.</summary>
    [JsonPropertyName("max_prompt_tokens")] public int MaxPromptTokens { get; init; } = new PartitionCaps().MaxPromptTokens;
}

/// <summary>A partition policy and its options, as a grid value.</summary>
public sealed record PolicySpec
{
    // The library's partition defaults, for the parameters a grid value leaves out.
    private static readonly PartitionOptions Defaults = new();

    /// <summary>count, gap, window or drift.</summary>
    [JsonPropertyName("policy")] public string Policy { get; init; } = "count";

    /// <summary>count: K.</summary>
    [JsonPropertyName("k")] public int? K { get; init; }

    /// <summary>gap: seconds.</summary>
    [JsonPropertyName("gap_seconds")] public long? GapSeconds { get; init; }

    /// <summary>window: day, week or month.</summary>
    [JsonPropertyName("period")] public string? Period { get; init; }

    /// <summary>window: IANA time zone.</summary>
    [JsonPropertyName("time_zone")] public string? TimeZone { get; init; }

    /// <summary>drift: window (and minimum partition size).</summary>
    [JsonPropertyName("drift_window")] public int? DriftWindow { get; init; }

    /// <summary>drift: threshold.</summary>
    [JsonPropertyName("drift_threshold")] public double? DriftThreshold { get; init; }

    /// <summary>A short label, e.g. count20.</summary>
    public string Label() => Policy switch
    {
        "count" => $"count{K ?? Defaults.K}",
        "gap" => $"gap{GapSeconds ?? Defaults.GapSeconds}s",
        "window" => $"window-{Period ?? "week"}",
        "drift" => $"drift{DriftThreshold ?? Defaults.DriftThreshold:0.###}",
        _ => Policy,
    };
}

/// <summary>The grid: every combination is one run (runs without LIBER ignore the LIBER axes).</summary>
public sealed record GridSpec
{
    /// <summary>Backbones.</summary>
    [JsonPropertyName("backbones")] public IReadOnlyList<string> Backbones { get; init; } = ["din"];

    /// <summary>LIBER off and/or on.</summary>
    [JsonPropertyName("liber")] public IReadOnlyList<bool> Liber { get; init; } = [false, true];

    /// <summary>UIF variants.</summary>
    [JsonPropertyName("fusions")] public IReadOnlyList<string> Fusions { get; init; } = ["attention"];

    /// <summary>Partition policies.</summary>
    [JsonPropertyName("policies")] public IReadOnlyList<PolicySpec> Policies { get; init; } = [new PolicySpec { Policy = "count", K = 20 }];

    /// <summary>UIL modes (one-call, two-call).</summary>
    [JsonPropertyName("modes")] public IReadOnlyList<string> Modes { get; init; } = ["two-call"];

    /// <summary>Seeds.</summary>
    [JsonPropertyName("seeds")] public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];

    /// <summary>Training variants (learning rate, weight decay, dropout, user id, statistics over the experiment's <c>training</c>); null: the experiment's training alone.</summary>
    [JsonPropertyName("training")] public IReadOnlyList<TrainingVariant>? Training { get; init; }
}

/// <summary>A training variant of a grid: each value given replaces the experiment's own.</summary>
public sealed record TrainingVariant
{
    /// <summary>AdamW learning rate.</summary>
    [JsonPropertyName("lr")] public double? LearningRate { get; init; }

    /// <summary>AdamW weight decay.</summary>
    [JsonPropertyName("weight_decay")] public double? WeightDecay { get; init; }

    /// <summary>Head dropout.</summary>
    [JsonPropertyName("dropout")] public double? Dropout { get; init; }

    /// <summary>Whether the model embeds the user id.</summary>
    [JsonPropertyName("user_id")] public bool? UserId { get; init; }

    /// <summary>Whether the model reads the point-in-time statistics.</summary>
    [JsonPropertyName("stats")] public bool? Stats { get; init; }

    /// <summary>Whether the model reads the short-term window's statistics.</summary>
    [JsonPropertyName("recent")] public bool? Recent { get; init; }

    /// <summary>The gbdt peer's partition size K (see <see cref="TrainingSpec.GbdtPartitions"/>).</summary>
    [JsonPropertyName("gbdt_partitions")] public int? GbdtPartitions { get; init; }

    /// <summary>The experiment's training with this variant's values.</summary>
    public TrainingSpec Apply(TrainingSpec training)
    {
        ArgumentNullException.ThrowIfNull(training);
        return training with
        {
            LearningRate = LearningRate ?? training.LearningRate,
            WeightDecay = WeightDecay ?? training.WeightDecay,
            Dropout = Dropout ?? training.Dropout,
            UserId = UserId ?? training.UserId,
            Stats = Stats ?? training.Stats,
            Recent = Recent ?? training.Recent,
            GbdtPartitions = GbdtPartitions ?? training.GbdtPartitions,
        };
    }
}
