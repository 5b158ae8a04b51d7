using System.Globalization;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>
/// Joins user-applied tags onto items: each item keeps its distinct tags (case-insensitive, first spelling
/// kept), most frequent first, ties by first appearance. Tags of items missing from the catalog are bad rows.
/// </summary>
internal sealed class TagJoiner(DatasetBuilder builder)
{
    private readonly Dictionary<int, Dictionary<string, (string Spelling, int Count, int First)>> _tags = [];
    private int _seen;

    public void Add(string itemExternal, string tag, string file, long line, string text)
    {
        tag = tag.Trim();
        if (tag.Length == 0)
        {
            return;
        }

        if (!long.TryParse(itemExternal, NumberStyles.None, CultureInfo.InvariantCulture, out long ext) || !builder.Items.TryGet(ext, out int item))
        {
            builder.Bad.Bad("unknown item id", file, line, text, $"tag for item \"{itemExternal}\" which is not in the item file");
            return;
        }

        if (!_tags.TryGetValue(item, out var map))
        {
            map = new Dictionary<string, (string, int, int)>(StringComparer.OrdinalIgnoreCase);
            _tags.Add(item, map);
        }

        map[tag] = map.TryGetValue(tag, out var t) ? (t.Spelling, t.Count + 1, t.First) : (tag, 1, _seen++);
    }

    public void Apply()
    {
        foreach (var (item, map) in _tags)
        {
            string[] ordered = map.Values.OrderByDescending(t => t.Count).ThenBy(t => t.First).Select(t => t.Spelling).ToArray();
            builder.SetItem(builder.GetItem(item) with { Tags = ordered });
        }
    }
}
