using System.Text.Json;
using System.Text.Json.Serialization;
using Liber.Core.Data;
using Liber.Models.Features;
using Liber.Models.Training;

namespace Liber.Models.Serving;

/// <summary>The rating scale of the training data (ratings are divided by <see cref="Max"/> as the collator does).</summary>
/// <param name="Min">Lowest rating.</param>
/// <param name="Max">Highest rating: the divisor of history ratings.</param>
/// <param name="DefaultThreshold">The data set's default label threshold.</param>
/// <param name="Step">Rating step, when the scale has one.</param>
public sealed record VocabularyScale(
    [property: JsonPropertyName("min")] float Min,
    [property: JsonPropertyName("max")] float Max,
    [property: JsonPropertyName("default_threshold")] float DefaultThreshold,
    [property: JsonPropertyName("step")] float? Step);

/// <summary>One user of the training data: external id and profile field values (missing fields omitted).</summary>
/// <param name="Id">External user id.</param>
/// <param name="Fields">Field name (as <see cref="FeatureMap.UserFields"/>) to value.</param>
public sealed record VocabularyUser(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("fields")] IReadOnlyDictionary<string, string> Fields);

/// <summary>One item of the training data: external id, category names as coded (the first C, deduplicated) and field values.</summary>
/// <param name="Id">External item id.</param>
/// <param name="Categories">Category names in code order (at most <see cref="FeatureMap.MaxCategories"/>).</param>
/// <param name="Fields">Field name (as <see cref="FeatureMap.ItemFields"/>) to value.</param>
public sealed record VocabularyItem(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("categories")] IReadOnlyList<string> Categories,
    [property: JsonPropertyName("fields")] IReadOnlyDictionary<string, string> Fields);

/// <summary>
/// <c>vocabulary.json</c> of a checkpoint: what turns external ids into the model's codes outside the training data
/// set. Users and items are listed in dense-id order (position x is coded x + 1, as in <see cref="FeatureMap"/>); each
/// entry carries the values the collator reads from <see cref="FeatureTables"/> (categories, profile and item fields).
/// Written by <see cref="TrainingRun"/> with every checkpoint; read by <see cref="OnlineScorer"/>.
/// </summary>
public sealed record CheckpointVocabulary
{
    /// <summary>Schema version.</summary>
    [JsonPropertyName("version")] public int Version { get; init; } = 1;

    /// <summary>The data set kind the checkpoint was trained on.</summary>
    [JsonPropertyName("dataset")] public required string Dataset { get; init; }

    /// <summary>The rating scale.</summary>
    [JsonPropertyName("rating_scale")] public required VocabularyScale RatingScale { get; init; }

    /// <summary>Users in dense-id order.</summary>
    [JsonPropertyName("users")] public required IReadOnlyList<VocabularyUser> Users { get; init; }

    /// <summary>Items in dense-id order.</summary>
    [JsonPropertyName("items")] public required IReadOnlyList<VocabularyItem> Items { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The vocabulary of feature tables built over <paramref name="dataset"/>.</summary>
    public static CheckpointVocabulary Build(FeatureTables tables, Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(dataset);
        FeatureMap map = tables.Map;
        int c = map.MaxCategories, fi = map.ItemFields.Count, fu = map.UserFields.Count;
        var items = new VocabularyItem[map.Items];
        for (int i = 0; i < items.Length; i++)
        {
            var cats = new List<string>(c);
            foreach (long code in tables.ItemCategories.AsSpan(i * c, c))
            {
                if (code > 0)
                {
                    cats.Add(map.Categories[(int)code - 1]);
                }
            }

            items[i] = new VocabularyItem(dataset.Items.External(i), cats, Values(map.ItemFields, tables.ItemFields.AsSpan(i * fi, fi)));
        }

        var users = new VocabularyUser[map.Users];
        for (int u = 0; u < users.Length; u++)
        {
            users[u] = new VocabularyUser(dataset.Users.External(u), Values(map.UserFields, tables.UserFields.AsSpan(u * fu, fu)));
        }

        RatingScale s = dataset.Scale;
        return new CheckpointVocabulary
        {
            Dataset = dataset.Kind,
            RatingScale = new VocabularyScale(s.Min, s.Max, s.DefaultThreshold, s.Step),
            Users = users,
            Items = items,
        };
    }

    /// <summary>Writes the vocabulary as JSON (compact: it lists every user and item).</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Reads a vocabulary written by <see cref="Save"/>; a missing file or unknown keys are errors naming the file.</summary>
    public static CheckpointVocabulary Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"{path} not found: the checkpoint has no vocabulary (external user/item ids and item features); checkpoints written by 'liber train' include it, retrain to get one", path);
        }

        try
        {
            return JsonSerializer.Deserialize<CheckpointVocabulary>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty vocabulary");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid checkpoint vocabulary: {e.Message}", e);
        }
    }

    private static Dictionary<string, string> Values(IReadOnlyList<CategoricalField> fields, ReadOnlySpan<long> codes)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int f = 0; f < fields.Count; f++)
        {
            if (codes[f] > 0)
            {
                values[fields[f].Name] = fields[f].Values[(int)codes[f] - 1];
            }
        }

        return values;
    }
}
