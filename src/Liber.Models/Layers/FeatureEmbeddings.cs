using Liber.Models.Features;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Layers;

/// <summary>
/// The embedding tables every backbone needs, built from a <see cref="FeatureMap"/>: users, items,
/// categories (mean-pooled per item), and one table per profile or item field. Padding index 0 embeds to
/// zeros. An item is represented as [item ; mean of its categories], 2E wide, for the target and for
/// every history entry alike, so attention can compare them directly.
/// </summary>
public sealed class FeatureEmbeddings : nn.Module
{
    private readonly Embedding _users;
    private readonly Embedding _items;
    private readonly Embedding _categories;
    private readonly ModuleList<Embedding> _userFields;
    private readonly ModuleList<Embedding> _itemFields;
    private readonly bool _userIds;

    /// <summary>
    /// Creates the tables with embedding size <paramref name="size"/>. Without <paramref name="userIds"/> every user reads
    /// the zero padding row (the table is still created, so the other tables start from the same random values).
    /// </summary>
    public FeatureEmbeddings(FeatureMap map, int size, bool userIds = true)
        : base(nameof(FeatureEmbeddings))
    {
        Size = size;
        _userIds = userIds;
        UserFieldCount = map.UserFields.Count;
        ItemFieldCount = map.ItemFields.Count;
        _users = nn.Embedding(map.Users + 1, size, padding_idx: 0);
        _items = nn.Embedding(map.Items + 1, size, padding_idx: 0);
        _categories = nn.Embedding(map.CategoryVocabulary, size, padding_idx: 0);
        _userFields = nn.ModuleList(map.UserFields.Select(f => nn.Embedding(f.Vocabulary, size, padding_idx: 0)).ToArray());
        _itemFields = nn.ModuleList(map.ItemFields.Select(f => nn.Embedding(f.Vocabulary, size, padding_idx: 0)).ToArray());
        RegisterComponents();
        using (no_grad())
        {
            // Small initial embeddings keep early logits near 0 (the default N(0, 1) makes wide MLP inputs explode).
            foreach (var p in parameters())
            {
                nn.init.normal_(p, 0, 0.05);
            }

            foreach (Embedding e in new[] { _users, _items, _categories }.Concat(_userFields).Concat(_itemFields))
            {
                e.weight![0].zero_();
            }
        }
    }

    /// <summary>E, the embedding size.</summary>
    public int Size { get; }

    /// <summary>Width of an item vector: 2E (item and mean category).</summary>
    public int ItemWidth => 2 * Size;

    /// <summary>Number of user profile fields Fu.</summary>
    public int UserFieldCount { get; }

    /// <summary>Number of item fields Fi.</summary>
    public int ItemFieldCount { get; }

    /// <summary>Width of <see cref="UserVector"/>: E (1 + Fu).</summary>
    public int UserWidth => Size * (1 + UserFieldCount);

    /// <summary>Width of <see cref="ItemFieldVector"/>: E Fi.</summary>
    public int ItemFieldWidth => Size * ItemFieldCount;

    /// <summary>Item vectors: items [...], categories [..., C] -> [..., 2E].</summary>
    public Tensor ItemVectors(Tensor items, Tensor categories)
    {
        using var scope = NewDisposeScope();
        if (SharedRows.IsExpanded(items) && SharedRows.IsExpanded(categories))
        {
            // One user's history expanded over N candidates: embed it once, [1, ..., 2E] -> [B, ..., 2E].
            Tensor first = ItemVectors(SharedRows.First(items), SharedRows.First(categories));
            return SharedRows.Expand(first, items.shape[0]).MoveToOuterDisposeScope();
        }

        Tensor item = _items.call(items);                                       // [..., E]
        Tensor cats = _categories.call(categories).sum(-2);                     // [..., C, E] -> [..., E]
        Tensor count = CategoryCount(categories);                               // [..., 1]
        return cat([item, cats / count], -1).MoveToOuterDisposeScope();         // [..., 2E]
    }

    /// <summary>The mean category embedding alone: categories [..., C] -> [..., E].</summary>
    public Tensor CategoryMean(Tensor categories)
    {
        using var scope = NewDisposeScope();
        Tensor count = CategoryCount(categories);
        return (_categories.call(categories).sum(-2) / count).MoveToOuterDisposeScope();
    }

    /// <summary>Number of real categories per item, at least 1: [..., C] -> [..., 1].</summary>
    private static Tensor CategoryCount(Tensor categories)
    {
        // Scalars live in locals until the native calls return: a temporary Scalar can be finalised by the GC during
        // the P/Invoke that reads it (seen as a libtorch "toDouble" check failure after thousands of batches).
        using Scalar zero = 0, one = 1;
        return categories.gt(zero).sum(-1, keepdim: true).clamp_min(one);
    }

    /// <summary>The item embedding alone: items [...] -> [..., E].</summary>
    public Tensor Item(Tensor items) => _items.call(items);

    /// <summary>The target item: [B, 2E].</summary>
    public Tensor TargetItem(CtrBatch batch) => ItemVectors(batch.Items, batch.ItemCategories);

    /// <summary>The short-term history: [B, L, 2E] (padding entries are zeros).</summary>
    public Tensor History(CtrBatch batch) => ItemVectors(batch.HistoryItems, batch.HistoryCategories);

    /// <summary>A sequence: [B, T, 2E].</summary>
    public Tensor Sequence(SequenceInput sequence) => ItemVectors(sequence.Items, sequence.Categories);

    /// <summary>The user id embedding alone: [B, E].</summary>
    public Tensor User(CtrBatch batch) => _users.call(UserIds(batch));

    private Tensor UserIds(CtrBatch batch) => _userIds ? batch.Users : zeros_like(batch.Users);

    /// <summary>User id and profile fields: [B, E (1 + Fu)].</summary>
    public Tensor UserVector(CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        return cat(UserFieldList(batch).Prepend(_users.call(UserIds(batch))).ToList(), 1).MoveToOuterDisposeScope();
    }

    /// <summary>Item fields: [B, E Fi] ([B, 0] when there are none).</summary>
    public Tensor ItemFieldVector(CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        List<Tensor> fields = ItemFieldList(batch);
        Tensor result = fields.Count == 0 ? zeros(batch.Size, 0, device: batch.Items.device) : cat(fields, 1);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Each user profile field's embedding, [B, E] each.</summary>
    public List<Tensor> UserFieldList(CtrBatch batch) =>
        _userFields.Select((e, k) => e.call(batch.UserFields[.., k])).ToList();

    /// <summary>Each item field's embedding, [B, E] each.</summary>
    public List<Tensor> ItemFieldList(CtrBatch batch) =>
        _itemFields.Select((e, k) => e.call(batch.ItemFields[.., k])).ToList();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _users.Dispose();
            _items.Dispose();
            _categories.Dispose();
            _userFields.Dispose();
            _itemFields.Dispose();
        }

        base.Dispose(disposing);
    }
}
