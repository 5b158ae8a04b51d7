using System.Globalization;
using Liber.Core.Data;
using Liber.Core.Streams;

namespace Liber.Models.Features;

/// <summary>
/// Item, category and profile features of a data set, computed once as flat arrays already coded for the
/// model (0 = padding/missing, dense id x as x + 1), with the <see cref="FeatureMap"/> that describes them.
/// The collator reads these arrays; nothing is recomputed per sample.
/// </summary>
public sealed class FeatureTables
{
    /// <summary>Most categories kept per item (items with more keep their first ones in metadata order).</summary>
    public const int MaxCategoriesCap = 8;

    private FeatureTables(FeatureMap map, long[] itemCategories, long[] itemFields, long[] userFields, float ratingScale)
    {
        Map = map;
        ItemCategories = itemCategories;
        ItemFields = itemFields;
        UserFields = userFields;
        RatingScale = ratingScale;
    }

    /// <summary>The schema.</summary>
    public FeatureMap Map { get; }

    /// <summary>[Items x C] coded category ids, by dense item id.</summary>
    public long[] ItemCategories { get; }

    /// <summary>[Items x Fi] coded item field values.</summary>
    public long[] ItemFields { get; }

    /// <summary>[Users x Fu] coded profile field values.</summary>
    public long[] UserFields { get; }

    /// <summary>Ratings are divided by this (the scale's maximum) to lie in [0, 1].</summary>
    public float RatingScale { get; }

    /// <summary>Computes the tables of the data set behind <paramref name="samples"/>.</summary>
    public static FeatureTables Build(SampleSet samples, int maxPartitions = 32)
    {
        ArgumentNullException.ThrowIfNull(samples);
        Dataset dataset = samples.Streams.Dataset;
        IReadOnlyList<Item> catalog = dataset.Catalog;

        var categoryIds = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var categoryNames = new List<string>();
        int maxCats = 1;
        foreach (Item item in catalog)
        {
            foreach (string c in item.Categories)
            {
                if (!categoryIds.ContainsKey(c))
                {
                    categoryIds.Add(c, categoryNames.Count);
                    categoryNames.Add(c);
                }
            }

            maxCats = Math.Max(maxCats, Math.Min(item.Categories.Count, MaxCategoriesCap));
        }

        var itemCats = new long[catalog.Count * maxCats];
        for (int i = 0; i < catalog.Count; i++)
        {
            IReadOnlyList<string> cats = catalog[i].Categories;
            int k = 0;
            foreach (string c in cats)
            {
                long code = categoryIds[c] + 1;
                // Duplicate category names (differing only in case) are kept once.
                if (k < maxCats && Array.IndexOf(itemCats, code, i * maxCats, k) < 0)
                {
                    itemCats[(i * maxCats) + k++] = code;
                }
            }
        }

        // Item fields: the decade of the release year, where any item has one.
        var itemFieldDefs = new List<(string Name, Func<Item, string?> Get)>
        {
            ("decade", it => it.Year is int y ? (y / 10 * 10).ToString(CultureInfo.InvariantCulture) : null),
        };
        (List<CategoricalField> itemFields, long[] itemCodes) = Code(catalog, itemFieldDefs);

        var profiles = Enumerable.Range(0, dataset.Users.Count).Select(u => u < dataset.Profiles.Count ? dataset.Profiles[u] : null).ToList();
        var userFieldDefs = new List<(string Name, Func<UserProfile?, string?> Get)>
        {
            ("gender", p => p?.Gender),
            ("age", p => p?.AgeGroup ?? (p?.Age is int a ? AgeBucket(a) : null)),
            ("occupation", p => p?.Occupation),
        };
        (List<CategoricalField> userFields, long[] userCodes) = Code(profiles, userFieldDefs);

        var map = new FeatureMap
        {
            Dataset = dataset.Kind,
            Users = dataset.Users.Count,
            Items = catalog.Count,
            Categories = categoryNames,
            MaxCategories = maxCats,
            UserFields = userFields,
            ItemFields = itemFields,
            HistoryLength = samples.Options.HistoryLength,
            MaxPartitions = maxPartitions,
            Threshold = samples.Threshold,
            RatingScale = dataset.Scale.Max,
        };
        return new FeatureTables(map, itemCats, itemCodes, userCodes, dataset.Scale.Max);
    }

    private static string AgeBucket(int age) => age switch
    {
        < 18 => "<18",
        < 25 => "18-24",
        < 35 => "25-34",
        < 45 => "35-44",
        < 50 => "45-49",
        < 56 => "50-55",
        _ => "56+",
    };

    /// <summary>Codes the fields that have at least one value; values are sorted ordinally so codes do not depend on row order.</summary>
    private static (List<CategoricalField> Fields, long[] Codes) Code<T>(IReadOnlyList<T> rows, List<(string Name, Func<T, string?> Get)> defs)
    {
        var kept = new List<(CategoricalField Field, Dictionary<string, int> Codes, Func<T, string?> Get)>();
        foreach ((string name, Func<T, string?> get) in defs)
        {
            var values = rows.Select(get).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            if (values.Count > 0)
            {
                kept.Add((new CategoricalField(name, values), values.Select((v, k) => (v, k)).ToDictionary(p => p.v, p => p.k + 1, StringComparer.Ordinal), get));
            }
        }

        var codes = new long[rows.Count * kept.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            for (int f = 0; f < kept.Count; f++)
            {
                codes[(r * kept.Count) + f] = kept[f].Get(rows[r]) is string v ? kept[f].Codes[v] : 0;
            }
        }

        return (kept.Select(k => k.Field).ToList(), codes);
    }
}
