using Liber.Core.Streams;

namespace Liber.Models.Features;

/// <summary>
/// SIM's general search unit: for every (user, category), the user's stream rows with an item of that
/// category, ascending. A search merges the target's categories' lists backwards from the sample's row.
/// </summary>
internal sealed class CategoryIndex
{
    private readonly int[] _offsets;
    private readonly int[] _rows;
    private readonly int _categories;

    private CategoryIndex(int[] offsets, int[] rows, int categories)
    {
        _offsets = offsets;
        _rows = rows;
        _categories = categories;
    }

    public static CategoryIndex Build(UserStreams streams, FeatureTables tables)
    {
        int k = tables.Map.CategoryVocabulary, c = tables.Map.MaxCategories;
        ReadOnlySpan<int> items = streams.Items;
        var offsets = new int[(streams.UserCount * k) + 1];
        for (int u = 0; u < streams.UserCount; u++)
        {
            for (int r = streams.Offsets[u]; r < streams.Offsets[u + 1]; r++)
            {
                foreach (long code in tables.ItemCategories.AsSpan(items[r] * c, c))
                {
                    if (code > 0)
                    {
                        offsets[(u * k) + (int)code + 1]++;
                    }
                }
            }
        }

        for (int i = 1; i < offsets.Length; i++)
        {
            offsets[i] += offsets[i - 1];
        }

        var cursor = offsets[..^1];
        var rows = new int[offsets[^1]];
        for (int u = 0; u < streams.UserCount; u++)
        {
            for (int r = streams.Offsets[u]; r < streams.Offsets[u + 1]; r++)
            {
                foreach (long code in tables.ItemCategories.AsSpan(items[r] * c, c))
                {
                    if (code > 0)
                    {
                        rows[cursor[(u * k) + (int)code]++] = r;
                    }
                }
            }
        }

        return new CategoryIndex(offsets, rows, k);
    }

    /// <summary>Writes the most recent rows before <paramref name="row"/> sharing a category with <paramref name="target"/>, oldest first; returns the count.</summary>
    public int Search(int user, int row, ReadOnlySpan<long> target, Span<int> result)
    {
        Span<int> heads = stackalloc int[target.Length];
        Span<int> starts = stackalloc int[target.Length];
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == 0)
            {
                heads[i] = starts[i] = 0;
                continue;
            }

            int key = (user * _categories) + (int)target[i];
            int lo = _offsets[key], hi = _offsets[key + 1];
            starts[i] = lo;
            // heads[i]: one past the last row < row (binary search: strictly before the sample).
            int a = Array.BinarySearch(_rows, lo, hi - lo, row);
            heads[i] = a >= 0 ? a : ~a;
        }

        int n = 0, last = int.MaxValue;
        while (n < result.Length)
        {
            int best = -1, bestRow = -1;
            for (int i = 0; i < target.Length; i++)
            {
                if (heads[i] > starts[i] && _rows[heads[i] - 1] > bestRow)
                {
                    best = i;
                    bestRow = _rows[heads[i] - 1];
                }
            }

            if (best < 0)
            {
                break;
            }

            heads[best]--;
            if (bestRow != last)
            {
                result[n++] = bestRow;
                last = bestRow;
            }
        }

        result[..n].Reverse();
        return n;
    }
}
