using System.Globalization;

namespace Liber.Core.Data;

/// <summary>
/// Maps external ids (as they appear in a data set) to dense 0-based internal ids, in order of first
/// appearance. Numeric ids (MovieLens) and text ids (generic logs) each have an allocation-free path.
/// </summary>
public sealed class IdMap
{
    private readonly Dictionary<long, int> _numeric = [];
    private readonly Dictionary<string, int> _text = new(StringComparer.Ordinal);
    private readonly List<string?> _externals = [];
    private readonly List<long> _numericExternals = [];

    /// <summary>Number of ids mapped.</summary>
    public int Count => _externals.Count;

    /// <summary>The dense id of a numeric external id, adding it if new.</summary>
    public int GetOrAdd(long external)
    {
        if (_numeric.TryGetValue(external, out int id))
        {
            return id;
        }

        id = _externals.Count;
        _numeric.Add(external, id);
        _externals.Add(null);
        _numericExternals.Add(external);
        return id;
    }

    /// <summary>The dense id of a text external id, adding it if new.</summary>
    public int GetOrAdd(ReadOnlySpan<char> external)
    {
        var lookup = _text.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(external, out int id))
        {
            return id;
        }

        string key = external.ToString();
        id = _externals.Count;
        _text.Add(key, id);
        _externals.Add(key);
        _numericExternals.Add(0);
        return id;
    }

    /// <summary>Looks up a numeric external id without adding it.</summary>
    public bool TryGet(long external, out int id) => _numeric.TryGetValue(external, out id);

    /// <summary>Looks up a text external id without adding it.</summary>
    public bool TryGet(ReadOnlySpan<char> external, out int id) =>
        _text.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(external, out id);

    /// <summary>The external id of a dense id, as text.</summary>
    public string External(int id) =>
        _externals[id] ?? _numericExternals[id].ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A copy whose dense ids follow ascending external id (numerically for numeric ids, ordinally for
    /// text), so that "order by user" means the same thing whatever the file order. <paramref name="oldToNew"/>
    /// maps this map's ids to the copy's.
    /// </summary>
    public IdMap SortedByExternal(out int[] oldToNew)
    {
        int[] order = Enumerable.Range(0, Count).ToArray();
        Comparison<int> compare = (a, b) =>
        {
            bool na = _externals[a] is null, nb = _externals[b] is null;
            if (na && nb)
            {
                return _numericExternals[a].CompareTo(_numericExternals[b]);
            }

            return na != nb ? (na ? -1 : 1) : string.CompareOrdinal(_externals[a], _externals[b]);
        };
        Array.Sort(order, compare);
        var sorted = new IdMap();
        oldToNew = new int[Count];
        foreach (int old in order)
        {
            oldToNew[old] = _externals[old] is null ? sorted.GetOrAdd(_numericExternals[old]) : sorted.GetOrAdd(_externals[old]);
        }

        return sorted;
    }
}
