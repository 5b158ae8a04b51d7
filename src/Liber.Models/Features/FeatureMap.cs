using System.Text.Json;
using System.Text.Json.Serialization;

namespace Liber.Models.Features;

/// <summary>A categorical field with its vocabulary: code 0 is "missing", value <c>Values[k]</c> has code k + 1.</summary>
/// <param name="Name">Field name (e.g. gender, age, occupation, decade).</param>
/// <param name="Values">Known values in code order.</param>
public sealed record CategoricalField(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("values")] IReadOnlyList<string> Values)
{
    /// <summary>Embedding rows the field needs: its values plus the missing/padding code 0.</summary>
    [JsonIgnore]
    public int Vocabulary => Values.Count + 1;
}

/// <summary>
/// The persisted schema between preprocessing and the models (feature-map.json): every vocabulary size
/// and sequence length a model needs to build its layers, so that a model never guesses its inputs and a
/// checkpoint can be reloaded against the same data set.
/// </summary>
/// <remarks>
/// Index convention for every id tensor of <see cref="CtrBatch"/>: 0 is padding / missing, a dense id
/// <c>x</c> of Liber.Core is stored as <c>x + 1</c>. Embedding tables therefore have <c>count + 1</c> rows
/// and use padding index 0.
/// </remarks>
public sealed record FeatureMap
{
    /// <summary>Schema version; bumped when the layout changes.</summary>
    [JsonPropertyName("version")] public int Version { get; init; } = 1;

    /// <summary>The data set kind the map was built from.</summary>
    [JsonPropertyName("dataset")] public required string Dataset { get; init; }

    /// <summary>Number of users (dense ids 0..Users-1); user embeddings have Users + 1 rows.</summary>
    [JsonPropertyName("users")] public required int Users { get; init; }

    /// <summary>Number of items (dense ids 0..Items-1); item embeddings have Items + 1 rows.</summary>
    [JsonPropertyName("items")] public required int Items { get; init; }

    /// <summary>Category (genre) names by dense category id; category embeddings have Count + 1 rows.</summary>
    [JsonPropertyName("categories")] public required IReadOnlyList<string> Categories { get; init; }

    /// <summary>C: categories kept per item (its first C in metadata order), padded with 0.</summary>
    [JsonPropertyName("max_categories")] public required int MaxCategories { get; init; }

    /// <summary>User profile fields (e.g. gender, age, occupation), in the column order of <see cref="CtrBatch.UserFields"/>.</summary>
    [JsonPropertyName("user_fields")] public required IReadOnlyList<CategoricalField> UserFields { get; init; }

    /// <summary>Item fields besides id and categories (e.g. decade), in the column order of <see cref="CtrBatch.ItemFields"/>.</summary>
    [JsonPropertyName("item_fields")] public required IReadOnlyList<CategoricalField> ItemFields { get; init; }

    /// <summary>L: short-term history length (protocol default 20).</summary>
    [JsonPropertyName("history_length")] public required int HistoryLength { get; init; }

    /// <summary>P: the most recent visible partitions a sample sees (protocol default 32).</summary>
    [JsonPropertyName("max_partitions")] public int MaxPartitions { get; init; } = 32;

    /// <summary>The label threshold the samples used.</summary>
    [JsonPropertyName("threshold")] public required float Threshold { get; init; }

    /// <summary>The rating scale's maximum, by which ratings are divided to lie in [0, 1] (0 in maps written before it was recorded).</summary>
    [JsonPropertyName("rating_scale")] public float RatingScale { get; init; }

    /// <summary>
    /// The label threshold on the scaled ratings of <see cref="CtrBatch.HistoryRatings"/>: a history entry at or above it
    /// was liked. Maps without <see cref="RatingScale"/> split at 0.5.
    /// </summary>
    [JsonIgnore]
    public float LikedRating => RatingScale > 0 ? Threshold / RatingScale : 0.5f;

    /// <summary>Rows of the category embedding (categories plus padding).</summary>
    [JsonIgnore]
    public int CategoryVocabulary => Categories.Count + 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Writes the map as JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Reads a map written by <see cref="Save"/>; unknown keys are errors.</summary>
    public static FeatureMap Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<FeatureMap>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty feature map");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid feature map: {e.Message}", e);
        }
    }

    /// <summary>Checks that two maps describe the same inputs (a checkpoint against the data set it scores).</summary>
    public void RequireCompatible(FeatureMap other)
    {
        if (Users != other.Users || Items != other.Items || MaxCategories != other.MaxCategories || HistoryLength != other.HistoryLength
            || !Categories.SequenceEqual(other.Categories) || !SameFields(UserFields, other.UserFields) || !SameFields(ItemFields, other.ItemFields))
        {
            throw new ArgumentException(
                $"feature maps differ: checkpoint has {Users} users, {Items} items, {Categories.Count} categories, L={HistoryLength}; " +
                $"data has {other.Users} users, {other.Items} items, {other.Categories.Count} categories, L={other.HistoryLength}");
        }
    }

    private static bool SameFields(IReadOnlyList<CategoricalField> a, IReadOnlyList<CategoricalField> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Name == p.Second.Name && p.First.Values.SequenceEqual(p.Second.Values));
}
