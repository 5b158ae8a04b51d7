using Liber.Core.Data;

namespace Liber.Core.Partitioning;

/// <summary>A category's share of a partition's events.</summary>
/// <param name="Name">Category name ("other" for the rest).</param>
/// <param name="Share">Share of the events, 0-1.</param>
public readonly record struct CategoryShare(string Name, double Share);

/// <summary>
/// What a partition was about, as a stacked band: each event gives its item's k categories 1/k each, so the shares of a partition
/// sum to the share of its events that have categories. Used by the service's timeline (<c>/v1/users/{id}/interests</c>) and by
/// <c>liber report --timeline</c>, so the page and the PNG draw the same bands.
/// </summary>
public static class PartitionCategories
{
    /// <summary>Categories named one by one; the rest are summed as "other".</summary>
    public const int Named = 6;

    /// <summary>The shares of <paramref name="items"/> (the partition's events' item ids) over <paramref name="catalog"/>: the <see cref="Named"/> largest, then "other".</summary>
    public static IReadOnlyList<CategoryShare> Of(IReadOnlyList<int> items, IReadOnlyList<Item> catalog)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(catalog);
        var shares = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        foreach (int item in items)
        {
            IReadOnlyList<string> cats = item >= 0 && item < catalog.Count ? catalog[item].Categories : [];
            foreach (string c in cats)
            {
                shares[c] = shares.GetValueOrDefault(c) + (1.0 / cats.Count / items.Count);
            }
        }

        var ranked = shares.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var result = ranked.Take(Named).Select(kv => new CategoryShare(kv.Key, Math.Round(kv.Value, 4))).ToList();
        double rest = ranked.Skip(Named).Sum(kv => kv.Value);
        if (rest > 0)
        {
            result.Add(new CategoryShare("other", Math.Round(rest, 4)));
        }

        return result;
    }
}
