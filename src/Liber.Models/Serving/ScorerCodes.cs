using System.Collections.Concurrent;
using Liber.Models.Features;

namespace Liber.Models.Serving;

/// <summary>
/// The online scorer's vocabulary: external user and item ids to the model's codes, profile and item field codes,
/// category names to codes, built from a checkpoint's <c>vocabulary.json</c> and checked against its feature map.
/// Items may be added or re-categorised while scoring (<see cref="Upsert"/>); lookups are thread-safe.
/// </summary>
internal sealed class ScorerCodes
{
    private readonly FeatureMap _map;
    private readonly Dictionary<string, int> _users;
    private readonly long[] _userFields;
    private readonly long[] _noFields;
    private readonly ConcurrentDictionary<string, ItemCodes> _items;
    private readonly Dictionary<string, long> _categories;
    private readonly ItemCodes _missing;

    public ScorerCodes(FeatureMap map, CheckpointVocabulary vocabulary, string vocabularyPath)
    {
        _map = map;
        if (vocabulary.Users.Count != map.Users || vocabulary.Items.Count != map.Items)
        {
            throw new InvalidDataException(
                $"{vocabularyPath}: lists {vocabulary.Users.Count} users and {vocabulary.Items.Count} items; the checkpoint's feature map has {map.Users} and {map.Items}");
        }

        if (vocabulary.RatingScale.Max <= 0)
        {
            throw new InvalidDataException($"{vocabularyPath}: rating_scale.max must be > 0, got {vocabulary.RatingScale.Max}");
        }

        RatingScale = vocabulary.RatingScale.Max;
        _categories = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        for (int k = 0; k < map.Categories.Count; k++)
        {
            _categories.TryAdd(map.Categories[k], k + 1);
        }

        int fu = map.UserFields.Count;
        _users = new Dictionary<string, int>(vocabulary.Users.Count, StringComparer.Ordinal);
        _userFields = new long[map.Users * fu];
        _noFields = new long[fu];
        for (int u = 0; u < vocabulary.Users.Count; u++)
        {
            VocabularyUser user = vocabulary.Users[u];
            if (!_users.TryAdd(user.Id, u))
            {
                throw new InvalidDataException($"{vocabularyPath}: user id '{user.Id}' is listed twice (users[{u}])");
            }

            Code(map.UserFields, user.Fields, _userFields.AsSpan(u * fu, fu), vocabularyPath, $"users[{u}]");
        }

        _items = new ConcurrentDictionary<string, ItemCodes>(StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Items.Count; i++)
        {
            VocabularyItem item = vocabulary.Items[i];
            var fields = new long[map.ItemFields.Count];
            Code(map.ItemFields, item.Fields, fields, vocabularyPath, $"items[{i}]");
            long[] cats = new long[map.MaxCategories];
            int n = 0;
            foreach (string name in item.Categories)
            {
                if (!_categories.TryGetValue(name, out long code))
                {
                    throw new InvalidDataException($"{vocabularyPath}: items[{i}] ('{item.Id}') has category '{name}', which the feature map does not list");
                }

                if (n < cats.Length && Array.IndexOf(cats, code, 0, n) < 0)
                {
                    cats[n++] = code;
                }
            }

            if (!_items.TryAdd(item.Id, new ItemCodes(i + 1, cats, fields)))
            {
                throw new InvalidDataException($"{vocabularyPath}: item id '{item.Id}' is listed twice (items[{i}])");
            }
        }

        _missing = new ItemCodes(0, new long[map.MaxCategories], new long[map.ItemFields.Count]);
    }

    /// <summary>The rating scale's maximum: history ratings are divided by it (as the collator does).</summary>
    public float RatingScale { get; }

    /// <summary>The dense id of a user, or -1 for one the checkpoint does not know.</summary>
    public int User(string userId) => _users.TryGetValue(userId, out int u) ? u : -1;

    /// <summary>A user's profile field codes (zeros for an unknown user).</summary>
    public ReadOnlyMemory<long> UserFields(int user) =>
        user >= 0 ? _userFields.AsMemory(user * _noFields.Length, _noFields.Length) : _noFields;

    /// <summary>An item's codes (code 0, no categories and no fields for an unknown item).</summary>
    public ItemCodes Item(string itemId) => _items.TryGetValue(itemId, out ItemCodes? codes) ? codes : _missing;

    /// <summary>Sets an item's categories (see <see cref="OnlineScorer.UpsertItem"/>).</summary>
    public void Upsert(string itemId, IReadOnlyList<string> categories)
    {
        var cats = new long[_map.MaxCategories];
        int n = 0;
        foreach (string name in categories)
        {
            if (name is not null && _categories.TryGetValue(name, out long code) && n < cats.Length && Array.IndexOf(cats, code, 0, n) < 0)
            {
                cats[n++] = code;
            }
        }

        _items.AddOrUpdate(
            itemId,
            static (_, c) => new ItemCodes(0, c.Cats, new long[c.Fields]),
            static (_, old, c) => new ItemCodes(old.Code, c.Cats, old.Fields),
            (Cats: cats, Fields: _map.ItemFields.Count));
    }

    private static void Code(IReadOnlyList<CategoricalField> fields, IReadOnlyDictionary<string, string> values, Span<long> codes, string path, string where)
    {
        foreach (string name in values.Keys)
        {
            if (!fields.Any(f => f.Name == name))
            {
                throw new InvalidDataException($"{path}: {where} has field '{name}', which the feature map does not list");
            }
        }

        for (int f = 0; f < fields.Count; f++)
        {
            if (values.TryGetValue(fields[f].Name, out string? v))
            {
                int k = IndexOf(fields[f].Values, v);
                codes[f] = k >= 0 ? k + 1 : throw new InvalidDataException($"{path}: {where} has {fields[f].Name} '{v}', which the feature map does not list");
            }
        }
    }

    private static int IndexOf(IReadOnlyList<string> values, string v)
    {
        for (int k = 0; k < values.Count; k++)
        {
            if (string.Equals(values[k], v, StringComparison.Ordinal))
            {
                return k;
            }
        }

        return -1;
    }
}

/// <summary>An item's codes: id (+1, 0 unknown), categories (C) and fields (Fi). Immutable once published.</summary>
internal sealed class ItemCodes(long code, long[] cats, long[] fields)
{
    public long Code { get; } = code;

    public long[] Cats { get; } = cats;

    public long[] Fields { get; } = fields;
}
