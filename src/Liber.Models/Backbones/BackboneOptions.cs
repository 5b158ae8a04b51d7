using System.Text.Json.Serialization;

namespace Liber.Models.Backbones;

/// <summary>
/// Typed options of every backbone, with the defaults of DIN's paper (embedding 32, MLP 200-80). Options a
/// backbone does not use are ignored by it; unknown keys in a config file are errors.
/// </summary>
public sealed record BackboneOptions
{
    /// <summary>Embedding size of every id and field (default 32).</summary>
    [JsonPropertyName("embedding_size")] public int EmbeddingSize { get; init; } = 32;

    /// <summary>Hidden sizes of the shared final MLP head (default 200, 80); empty gives a linear head.</summary>
    [JsonPropertyName("hidden")] public IReadOnlyList<int> Hidden { get; init; } = [200, 80];

    /// <summary>Dropout after each hidden layer of the head (default 0).</summary>
    [JsonPropertyName("dropout")] public double Dropout { get; init; }

    /// <summary>DIN / din-long / SIM: hidden sizes of the target-attention unit (default 80, 40, as in DIN).</summary>
    [JsonPropertyName("attention_hidden")] public IReadOnlyList<int> AttentionHidden { get; init; } = [80, 40];

    /// <summary>din-long: events of the long history (default 200).</summary>
    [JsonPropertyName("long_length")] public int LongLength { get; init; } = 200;

    /// <summary>SIM: events kept by the category search (default 50).</summary>
    [JsonPropertyName("search_length")] public int SearchLength { get; init; } = 50;

    /// <summary>DCNv2: cross layers (default 3).</summary>
    [JsonPropertyName("cross_layers")] public int CrossLayers { get; init; } = 3;

    /// <summary>DCNv2: rank r of the low-rank cross weights W = U V^T (default null: full rank, as the paper's main model).</summary>
    [JsonPropertyName("cross_rank")] public int? CrossRank { get; init; }

    /// <summary>AutoInt: self-attention layers (default 3).</summary>
    [JsonPropertyName("attention_layers")] public int AttentionLayers { get; init; } = 3;

    /// <summary>AutoInt: attention heads (default 2).</summary>
    [JsonPropertyName("attention_heads")] public int AttentionHeads { get; init; } = 2;

    /// <summary>DIEN: GRU hidden size (default: the history item embedding width, 2 x embedding size).</summary>
    [JsonPropertyName("gru_hidden")] public int? GruHidden { get; init; }

    /// <summary>DIEN: weight of the auxiliary loss (default 1).</summary>
    [JsonPropertyName("auxiliary_weight")] public double AuxiliaryWeight { get; init; } = 1.0;

    /// <summary>
    /// Whether the model embeds the user id (default true). Off, a user is known only by profile fields and behaviour —
    /// the setting of new or anonymous users, and the ablation that shows what long-term knowledge the id embedding
    /// already memorises.
    /// </summary>
    [JsonPropertyName("user_id")] public bool UserId { get; init; } = true;

    /// <summary>
    /// How the rating of each history event enters the model (default level): a learned vector per rating level added to
    /// each history item vector, a liked / not-liked vector instead, or none (ratings ignored, the ablation).
    /// </summary>
    [JsonPropertyName("ratings")]
    [JsonConverter(typeof(JsonStringEnumConverter<RatingEncoding>))]
    public RatingEncoding Ratings { get; init; } = RatingEncoding.Level;

    /// <summary>
    /// Whether the model reads the point-in-time statistics (<see cref="Liber.Core.Streams.PointInTimeStats"/>, 8 numeric
    /// columns already scaled to about [0, 1]) as a numeric feature group: the batch writer fills <c>CtrBatch.Stats</c>
    /// [B, 8] and the shared head concatenates it to every backbone's final-MLP input. Default true: it wins on validation
    /// for every backbone (docs/backbones.md); false is the paper's setting (behaviour sequence and ids only). Always
    /// written to config files, so a file read back means what was trained.
    /// </summary>
    [JsonPropertyName("stats")]
    public bool Stats { get; init; } = true;

    /// <summary>
    /// Which of the point-in-time statistics the model reads when <see cref="Stats"/> is on (default all; without statistics
    /// it means nothing): all 8 columns, or
    /// <see cref="Backbones.StatsScope.Item"/>, only the target item's 3 (its events, liked rate and mean rating before the
    /// sample; the user's 5 read as zeros). <c>item</c> is the setting where a backbone knows the items' popularity but not the
    /// user's long-term statistics, the knowledge LIBER's partitions are there to bring. The record's default is all, so it is
    /// left out of config files and earlier checkpoints and run hashes keep their meaning.
    /// </summary>
    [JsonPropertyName("stats_scope")]
    [JsonConverter(typeof(JsonStringEnumConverter<StatsScope>))]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public StatsScope StatsScope { get; init; }

    /// <summary>
    /// Whether the model reads the statistics of its short-term window (<see cref="Layers.RecentWindow"/>: fill, liked
    /// share, mean rating, liking of the target's categories, last rating; 6 columns computed from the history tensors the
    /// batch already carries) as a second numeric group next to <see cref="Stats"/>. The record's default is false, so a
    /// config file written before the option existed reads back as what was trained, and false is left out of config
    /// files; <c>liber train</c> starts from <see cref="TrainDefaults"/>, where it is on (chosen on validation,
    /// docs/backbones.md).
    /// </summary>
    [JsonPropertyName("recent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Recent { get; init; }

    /// <summary>
    /// How the numeric groups (<see cref="Stats"/>, <see cref="Recent"/>) enter the head (default raw): their values as they
    /// are, or also their periodic embeddings (<see cref="Layers.PeriodicEmbedding"/>: learned sin/cos features and a
    /// linear map per column, PLR of Gorishniy et al. 2022), which give the MLP threshold-like shapes of each column as trees
    /// have them. The record's default is raw, so config files written before the option existed read back as what was
    /// trained, and raw is left out of config files.
    /// </summary>
    [JsonPropertyName("numeric")]
    [JsonConverter(typeof(JsonStringEnumConverter<NumericEncoding>))]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public NumericEncoding Numeric { get; init; }

    /// <summary>
    /// The defaults of <c>liber train</c>: the record's, with the recent-window group on, the user-id embedding off and the
    /// numeric groups also entering as periodic embeddings. All three won on validation (docs/backbones.md, "Window
    /// statistics and the user id" and "Periodic embeddings of the numeric groups"); experiment files keep the record's
    /// defaults unless they say otherwise, so earlier runs keep their meaning.
    /// </summary>
    public static BackboneOptions TrainDefaults { get; } = new() { Recent = true, UserId = false, Numeric = NumericEncoding.Periodic };

    /// <summary>Validates the options, naming the offending key.</summary>
    public void Validate()
    {
        Require(EmbeddingSize >= 1, "embedding_size", EmbeddingSize);
        Require(Hidden.All(h => h >= 1), "hidden", string.Join(',', Hidden));
        Require(Dropout is >= 0 and < 1, "dropout", Dropout);
        Require(AttentionHidden.All(h => h >= 1), "attention_hidden", string.Join(',', AttentionHidden));
        Require(LongLength >= 1, "long_length", LongLength);
        Require(SearchLength >= 1, "search_length", SearchLength);
        Require(CrossLayers >= 0, "cross_layers", CrossLayers);
        Require(CrossRank is null or >= 1, "cross_rank", CrossRank ?? 0);
        Require(AttentionLayers >= 1, "attention_layers", AttentionLayers);
        Require(AttentionHeads >= 1, "attention_heads", AttentionHeads);
        Require(GruHidden is null or >= 1, "gru_hidden", GruHidden ?? 0);
        Require(AuxiliaryWeight >= 0, "auxiliary_weight", AuxiliaryWeight);
        Require(Enum.IsDefined(Ratings), "ratings", Ratings);
        Require(Enum.IsDefined(Numeric), "numeric", Numeric);
        Require(Enum.IsDefined(StatsScope), "stats_scope", StatsScope);
    }

    private static void Require(bool ok, string key, object value)
    {
        if (!ok)
        {
            throw new ArgumentException($"backbone option {key} has an invalid value {value}");
        }
    }
}

/// <summary>Which point-in-time statistics the model reads (<see cref="BackboneOptions.StatsScope"/>).</summary>
public enum StatsScope
{
    /// <summary>All 8 columns: the user's, the user-on-category and the item's.</summary>
    All,

    /// <summary>The target item's 3 columns only; the user's 5 read as zeros.</summary>
    Item,
}

/// <summary>How history ratings enter the model (<see cref="BackboneOptions.Ratings"/>).</summary>
public enum RatingEncoding
{
    /// <summary>Ratings ignored: every history entry reads as if its rating were missing.</summary>
    None,

    /// <summary>A learned vector per rating level (the scaled rating in tenths: 1-5 stars and half stars alike).</summary>
    Level,

    /// <summary>A learned vector for liked (at or above the label threshold) and one for not liked.</summary>
    Sentiment,
}

/// <summary>How the numeric groups enter the head (<see cref="BackboneOptions.Numeric"/>).</summary>
public enum NumericEncoding
{
    /// <summary>The values as they are.</summary>
    Raw,

    /// <summary>The values and their periodic embeddings (<see cref="Layers.PeriodicEmbedding"/>).</summary>
    Periodic,
}
