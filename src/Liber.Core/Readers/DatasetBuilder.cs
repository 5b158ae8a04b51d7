using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>Collects a reader's items, profiles and events, then freezes them into a <see cref="Dataset"/>.</summary>
public sealed class DatasetBuilder
{
    private readonly string _source;
    private readonly List<Item> _items = [];
    private readonly List<UserProfile?> _profiles = [];
    private int _catalogItems;
    private bool _built;

    /// <summary>Creates an empty builder.</summary>
    public DatasetBuilder(string kind, string source, RatingScale scale, BadRowPolicy policy)
    {
        Kind = kind;
        _source = source;
        Scale = scale;
        Bad = new BadRowHandler(policy, Report);
    }

    /// <summary>The data set kind.</summary>
    public string Kind { get; }

    /// <summary>Dense user ids.</summary>
    public IdMap Users { get; } = new();

    /// <summary>Dense item ids.</summary>
    public IdMap Items { get; } = new();

    /// <summary>Events in source order.</summary>
    public EventTable Events { get; } = new(1 << 16);

    /// <summary>The rating scale ratings are checked against.</summary>
    public RatingScale Scale { get; }

    /// <summary>Skip counts.</summary>
    public LoadReport Report { get; } = new();

    /// <summary>Applies the bad-row policy.</summary>
    public BadRowHandler Bad { get; }

    /// <summary>Whether a metadata file defined the catalog (events must then name known items).</summary>
    public bool HasCatalog { get; private set; }

    /// <summary>Adds a metadata item; false if its id is already in the catalog.</summary>
    public bool TryAddCatalogItem(string externalId, Func<int, Item> make, bool numeric)
    {
        int before = Items.Count;
        int id = numeric ? Items.GetOrAdd(long.Parse(externalId, System.Globalization.CultureInfo.InvariantCulture)) : Items.GetOrAdd(externalId);
        if (id < before)
        {
            return false;
        }

        _items.Add(make(id));
        _catalogItems++;
        HasCatalog = true;
        return true;
    }

    /// <summary>Marks that a metadata file was read even if it held no rows.</summary>
    public void MarkCatalogRead() => HasCatalog = true;

    /// <summary>A catalog item by dense id.</summary>
    public Item GetItem(int id) => _items[id];

    /// <summary>Replaces a catalog item (used to join tags onto items).</summary>
    public void SetItem(Item item) => _items[item.Id] = item;

    /// <summary>The dense id of an item seen in an event; adds a bare item when there is no catalog.</summary>
    public int EventItem(long externalId)
    {
        int id = Items.GetOrAdd(externalId);
        if (id == _items.Count)
        {
            _items.Add(Item.Bare(id, Items.External(id)));
        }

        return id;
    }

    /// <summary>The dense id of a text item id seen in an event; adds a bare item when there is no catalog.</summary>
    public int EventItem(ReadOnlySpan<char> externalId)
    {
        int id = Items.GetOrAdd(externalId);
        if (id == _items.Count)
        {
            _items.Add(Item.Bare(id, Items.External(id)));
        }

        return id;
    }

    /// <summary>
    /// Throws a <see cref="DataFormatException"/> when the events file <paramref name="path"/> gave no events (<paramref name="rows"/>
    /// data rows were read; <paramref name="header"/>: the file has a header line): a header-only file, or one whose every row was skipped as bad, is a user error, not an empty data set.
    /// </summary>
    public void RequireEvents(string path, long rows, bool header)
    {
        if (Events.Count > 0)
        {
            return;
        }

        string name = System.IO.Path.GetFileName(path);
        throw new DataFormatException(path, 0, rows == 0
            ? $"{name} has no events ({(header ? "no line after the header" : "no event line")}): add one event per line"
            : $"{name} has no events: all {rows} rows were skipped as bad ({string.Join(", ", Report.SkippedByReason.Select(r => $"{r.Value} {r.Key}"))}); fix the rows (first examples: {string.Join("; ", Report.Examples.Values.Take(3))})");
    }

    /// <summary>Sets a user's profile.</summary>
    public void SetProfile(UserProfile profile)
    {
        while (_profiles.Count <= profile.Id)
        {
            _profiles.Add(null);
        }

        _profiles[profile.Id] = profile;
    }

    /// <summary>Freezes the builder. Call once: it renumbers the events' users in place.</summary>
    public Dataset Build(string? sourceOverride = null)
    {
        if (_built)
        {
            throw new InvalidOperationException("DatasetBuilder.Build was already called");
        }

        _built = true;
        // Dense user ids follow external id order, so the protocol's (timestamp, user, index) order does
        // not depend on which user happened to come first in the file.
        IdMap users = Users.SortedByExternal(out int[] oldToNew);
        Events.RemapUsers(oldToNew);
        var profiles = new UserProfile?[users.Count];
        for (int old = 0; old < _profiles.Count; old++)
        {
            if (_profiles[old] is UserProfile p)
            {
                profiles[oldToNew[old]] = p with { Id = oldToNew[old] };
            }
        }

        return new Dataset(Kind, sourceOverride ?? _source, users, Items, Events, _items, _catalogItems, profiles, Scale, Report);
    }
}
