using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// The item catalog of a serving store (<c>items</c>): dense id, external id and metadata, held in memory for lookups
/// and as the data set the item features are built from. It decides what a change is (new items, changed metadata)
/// and writes it in the transaction its caller hands over; the store writes that transaction with a checkpoint of
/// its engines and rebuilds the features (see <c>SqlitePartitionStore.ChangeCatalogLocked</c>).
/// </summary>
/// <remarks>The in-memory catalog is guarded by <see cref="StoreContext.IdsGate"/>; changes are made under the store's writer lock.</remarks>
/// <param name="context">The shared connection and gate.</param>
internal sealed class SqliteItemCatalog(StoreContext context)
{
    /// <summary>The table, created with the store.</summary>
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS items(item INTEGER PRIMARY KEY, external TEXT NOT NULL UNIQUE, title TEXT NOT NULL, year INTEGER,
            categories TEXT NOT NULL, tags TEXT NOT NULL, text TEXT);

        """;

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<Item> _items = [];
    private ITokenCounter? _tokens;
    private Dataset? _snapshot;

    /// <summary>Items in the catalog.</summary>
    public int Count
    {
        get
        {
            lock (context.IdsGate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>The dense id of an external item id, or null when unknown.</summary>
    public int? Find(string external)
    {
        lock (context.IdsGate)
        {
            return _ids.TryGetValue(external, out int id) ? id : null;
        }
    }

    /// <summary>An item by its external id, or null when unknown.</summary>
    public Item? FindMetadata(string external)
    {
        lock (context.IdsGate)
        {
            return _ids.TryGetValue(external, out int id) ? _items[id] : null;
        }
    }

    /// <summary>The dense id of a known external item id (the caller holds <see cref="StoreContext.IdsGate"/>).</summary>
    public int IdLocked(string external) => _ids[external];

    /// <summary>How reasons name an item: its external id quoted, or the number itself when it is not in the catalog.</summary>
    public string Label(int item)
    {
        lock (context.IdsGate)
        {
            return item >= 0 && item < _items.Count ? $"'{_items[item].ExternalId}'" : item.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The catalog as a data set without events, built once per catalog version.</summary>
    public Dataset Snapshot()
    {
        lock (context.IdsGate)
        {
            return _snapshot ??= DatasetLocked();
        }
    }

    /// <summary>Loads the saved catalog (the store is not shared yet).</summary>
    public void Load()
    {
        using SqliteCommand c = context.Db.CreateCommand();
        c.CommandText = "SELECT item, external, title, year, categories, tags, text FROM items ORDER BY item";
        using SqliteDataReader r = c.ExecuteReader();
        while (r.Read())
        {
            int id = r.GetInt32(0);
            if (id != _items.Count)
            {
                throw new InvalidDataException($"store {context.Path}: item ids are not dense (found {id} after {_items.Count - 1})");
            }

            _items.Add(new Item(id, r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt32(3),
                JsonSerializer.Deserialize<string[]>(r.GetString(4)) ?? [], JsonSerializer.Deserialize<string[]>(r.GetString(5)) ?? [], r.IsDBNull(6) ? null : r.GetString(6)));
            _ids[r.GetString(1)] = id;
        }
    }

    /// <summary>The first item features, over the loaded catalog (the store is not shared yet); rebuilds after changes count tokens through the same memo.</summary>
    public ItemFeatures FirstFeatures(ITokenCounter tokens)
    {
        var memo = new MemoTokenCounter(tokens);
        _tokens = memo;
        return ItemFeatures.Build(DatasetLocked(), memo);
    }

    /// <summary>The item features over the current catalog, after a change.</summary>
    public ItemFeatures RebuildFeatures() => ItemFeatures.Build(Snapshot(), _tokens!);

    /// <summary>Bare items for the external ids not yet in the catalog, with the next dense ids in order of first sight.</summary>
    public List<Item> NewItems(IEnumerable<string> externals)
    {
        var newItems = new List<Item>();
        lock (context.IdsGate)
        {
            var fresh = new HashSet<string>(StringComparer.Ordinal);
            foreach (string external in externals)
            {
                if (!_ids.ContainsKey(external) && fresh.Add(external))
                {
                    newItems.Add(Item.Bare(_items.Count + newItems.Count, external));
                }
            }
        }

        return newItems;
    }

    /// <summary>The items an upsert changes: new ones with the next dense ids, known ones whose metadata differs (the last of repeated ids wins).</summary>
    public List<Item> Changes(IReadOnlyList<ItemMetadata> items)
    {
        var changes = new List<Item>();
        var fresh = new Dictionary<string, int>(StringComparer.Ordinal);
        lock (context.IdsGate)
        {
            foreach (ItemMetadata m in items)
            {
                ArgumentException.ThrowIfNullOrWhiteSpace(m.Id);
                if (!_ids.TryGetValue(m.Id, out int id) && !fresh.TryGetValue(m.Id, out id))
                {
                    id = _items.Count + fresh.Count;
                    fresh[m.Id] = id;
                }

                var item = new Item(id, m.Id, string.IsNullOrWhiteSpace(m.Title) ? m.Id : m.Title, m.Year, [.. m.Categories], [.. m.Tags], m.Text);
                if (id < _items.Count && SameMetadata(_items[id], item))
                {
                    continue;
                }

                changes.RemoveAll(c => c.Id == id);
                changes.Add(item);
            }
        }

        return changes;
    }

    /// <summary>Writes new or changed items in the caller's transaction.</summary>
    public void Write(SqliteTransaction tx, List<Item> changes)
    {
        using SqliteCommand c = context.Db.CreateCommand();
        c.Transaction = tx;
        c.CommandText = "INSERT INTO items(item, external, title, year, categories, tags, text) VALUES ($id, $ext, $title, $year, $cats, $tags, $text) " +
            "ON CONFLICT(item) DO UPDATE SET title = excluded.title, year = excluded.year, categories = excluded.categories, tags = excluded.tags, text = excluded.text";
        foreach (Item it in changes)
        {
            c.Parameters.Clear();
            c.Parameters.AddWithValue("$id", it.Id);
            c.Parameters.AddWithValue("$ext", it.ExternalId);
            c.Parameters.AddWithValue("$title", it.Title);
            c.Parameters.AddWithValue("$year", it.Year is int y ? y : DBNull.Value);
            c.Parameters.AddWithValue("$cats", JsonSerializer.Serialize(it.Categories));
            c.Parameters.AddWithValue("$tags", JsonSerializer.Serialize(it.Tags));
            c.Parameters.AddWithValue("$text", (object?)it.Text ?? DBNull.Value);
            c.ExecuteNonQuery();
        }
    }

    /// <summary>Takes committed changes into the in-memory catalog (a new snapshot is built on demand).</summary>
    public void Apply(List<Item> changes)
    {
        lock (context.IdsGate)
        {
            foreach (Item it in changes.OrderBy(i => i.Id))
            {
                if (it.Id < _items.Count)
                {
                    _items[it.Id] = it;
                }
                else
                {
                    _items.Add(it);
                    _ids[it.ExternalId] = it.Id;
                }
            }

            _snapshot = null;
        }
    }

    private static bool SameMetadata(Item a, Item b) =>
        a.Title == b.Title && a.Year == b.Year && a.Text == b.Text && a.Categories.SequenceEqual(b.Categories, StringComparer.Ordinal) && a.Tags.SequenceEqual(b.Tags, StringComparer.Ordinal);

    /// <summary>The catalog as a data set without events (the caller holds <see cref="StoreContext.IdsGate"/> or owns the store alone).</summary>
    private Dataset DatasetLocked()
    {
        var ids = new IdMap();
        foreach (Item it in _items)
        {
            ids.GetOrAdd(it.ExternalId.AsSpan());
        }

        return new Dataset("serve", context.Path, new IdMap(), ids, new EventTable(), [.. _items], _items.Count, [], RatingScale.FiveStars, new LoadReport());
    }

    /// <summary>Remembers token counts by text: rebuilding the item features after a catalog change then tokenizes only new lines.</summary>
    private sealed class MemoTokenCounter(ITokenCounter inner) : ITokenCounter
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

        public string Name => inner.Name;

        public int Count(string text) => _counts.GetOrAdd(text, inner.Count);
    }
}
