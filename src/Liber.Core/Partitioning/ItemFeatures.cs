using System.Globalization;
using System.Text;
using Liber.Core.Data;
using Microsoft.ML.Tokenizers;

namespace Liber.Core.Partitioning;

/// <summary>Counts the tokens of a text with a real tokenizer.</summary>
public interface ITokenCounter
{
    /// <summary>The tokenizer's name, e.g. cl100k_base.</summary>
    string Name { get; }

    /// <summary>Number of tokens of <paramref name="text"/>.</summary>
    int Count(string text);
}

/// <summary>cl100k_base (GPT-4's BPE) through Microsoft.ML.Tokenizers.</summary>
public sealed class Cl100kTokenCounter : ITokenCounter
{
    private static readonly Lazy<Tokenizer> Shared = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    /// <inheritdoc />
    public string Name => "cl100k_base";

    /// <inheritdoc />
    public int Count(string text) => Shared.Value.CountTokens(text);
}

/// <summary>
/// What the partition policies need to know of items, computed once per data set: each item's
/// categories as dense ids (for the drift policy) and the prompt tokens of one rendered event line (for
/// the token cap).
/// </summary>
public sealed class ItemFeatures
{
    private readonly int[] _categoryOffsets;
    private readonly int[] _categories;
    private readonly int[] _tokens;

    private ItemFeatures(int[] offsets, int[] categories, int[] tokens, IReadOnlyList<string> vocabulary, string tokenizer)
    {
        _categoryOffsets = offsets;
        _categories = categories;
        _tokens = tokens;
        CategoryNames = vocabulary;
        Tokenizer = tokenizer;
    }

    /// <summary>Category names by dense category id.</summary>
    public IReadOnlyList<string> CategoryNames { get; }

    /// <summary>Name of the tokenizer the token counts come from.</summary>
    public string Tokenizer { get; }

    /// <summary>Number of items.</summary>
    public int ItemCount => _tokens.Length;

    /// <summary>Dense category ids of an item.</summary>
    public ReadOnlySpan<int> Categories(int item) => _categories.AsSpan(_categoryOffsets[item], _categoryOffsets[item + 1] - _categoryOffsets[item]);

    /// <summary>Prompt tokens of one event line of this item (<see cref="RenderEventLine"/>).</summary>
    public int Tokens(int item) => _tokens[item];

    /// <summary>
    /// The line an item takes in a partition prompt: title, year, categories, tags and the user's rating.
    /// The rating is rendered as a fixed-width placeholder so that the token count does not depend on it.
    /// </summary>
    public static string RenderEventLine(Item item, string rating = "5.0")
    {
        var sb = new StringBuilder();
        sb.Append("- \"").Append(item.Title).Append('"');
        if (item.Year is int y)
        {
            sb.Append(" (").Append(y.ToString(CultureInfo.InvariantCulture)).Append(')');
        }

        if (item.Categories.Count > 0)
        {
            sb.Append(" | ").AppendJoin(", ", item.Categories);
        }

        if (item.Tags.Count > 0)
        {
            sb.Append(" | tags: ").AppendJoin(", ", item.Tags.Take(5));
        }

        sb.Append(" | rated ").Append(rating);
        return sb.ToString();
    }

    /// <summary>Computes the features of every item of a data set.</summary>
    public static ItemFeatures Build(Dataset dataset, ITokenCounter tokens)
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var names = new List<string>();
        int n = dataset.Catalog.Count;
        var offsets = new int[n + 1];
        var cats = new List<int>();
        var tokenCounts = new int[n];
        for (int i = 0; i < n; i++)
        {
            Item item = dataset.Catalog[i];
            foreach (string c in item.Categories)
            {
                if (!vocabulary.TryGetValue(c, out int id))
                {
                    id = names.Count;
                    vocabulary.Add(c, id);
                    names.Add(c);
                }

                cats.Add(id);
            }

            offsets[i + 1] = cats.Count;
            tokenCounts[i] = tokens.Count(RenderEventLine(item));
        }

        return new ItemFeatures(offsets, [.. cats], tokenCounts, names, tokens.Name);
    }
}
