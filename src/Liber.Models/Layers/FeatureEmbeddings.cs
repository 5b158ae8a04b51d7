using Liber.Models.Backbones;
using Liber.Models.Features;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Layers;

/// <summary>
/// The embedding tables every backbone needs, built from a <see cref="FeatureMap"/>: users, items,
/// categories (mean-pooled per item), and one table per profile or item field. Padding index 0 embeds to
/// zeros. An item is represented as [item ; mean of its categories], 2E wide, for the target and for
/// every history entry alike, so attention can compare them directly. A history entry also carries its rating: a
/// learned 2E-wide rating vector (<see cref="RatingEncoding"/>) is added to its item vector, so that attention keys
/// and values tell "liked items like the target" from "disliked items like the target" (the label is about liking).
/// </summary>
public sealed class FeatureEmbeddings : nn.Module
{
    private readonly Embedding _users;
    private readonly Embedding _items;
    private readonly Embedding _categories;
    private readonly ModuleList<Embedding> _userFields;
    private readonly ModuleList<Embedding> _itemFields;
    private readonly Embedding? _ratings;
    private readonly Embedding? _likedShares;
    private readonly bool _userIds;

    /// <summary>Rating levels of <see cref="RatingEncoding.Level"/>: the scaled rating in tenths (0.5-5 stars in half steps, 1-5 stars, 1-10 points).</summary>
    private const int Levels = 10;

    /// <summary>
    /// Creates the tables with embedding size <paramref name="size"/>. Without <paramref name="userIds"/> every user reads
    /// the zero padding row (the table is still created, so the other tables start from the same random values).
    /// <paramref name="ratings"/> says how history ratings are read; without <paramref name="ratingVectors"/> no rating
    /// table is built (the field backbones split the history by <see cref="Liked"/> instead).
    /// </summary>
    public FeatureEmbeddings(FeatureMap map, int size, bool userIds = true, RatingEncoding ratings = RatingEncoding.Level, bool ratingVectors = true)
        : base(nameof(FeatureEmbeddings))
    {
        ArgumentNullException.ThrowIfNull(map);
        Size = size;
        _userIds = userIds;
        Ratings = ratings;
        LikedRating = map.LikedRating;
        UserFieldCount = map.UserFields.Count;
        ItemFieldCount = map.ItemFields.Count;
        _users = nn.Embedding(map.Users + 1, size, padding_idx: 0);
        _items = nn.Embedding(map.Items + 1, size, padding_idx: 0);
        _categories = nn.Embedding(map.CategoryVocabulary, size, padding_idx: 0);
        _userFields = nn.ModuleList(map.UserFields.Select(f => nn.Embedding(f.Vocabulary, size, padding_idx: 0)).ToArray());
        _itemFields = nn.ModuleList(map.ItemFields.Select(f => nn.Embedding(f.Vocabulary, size, padding_idx: 0)).ToArray());
        // Built last so that the other tables draw the same initial values as before ratings were read.
        _ratings = !ratingVectors || ratings == RatingEncoding.None ? null
            : nn.Embedding((ratings == RatingEncoding.Level ? Levels : 2) + 1, 2 * size, padding_idx: 0);
        // The field backbones' liked-share field: the share of the history liked in tenths (rows 1-11; 0 = no history).
        _likedShares = ratingVectors ? null : nn.Embedding(Levels + 2, size, padding_idx: 0);
        RegisterComponents();
        using (no_grad())
        {
            // Small initial embeddings keep early logits near 0 (the default N(0, 1) makes wide MLP inputs explode).
            foreach (var p in parameters())
            {
                nn.init.normal_(p, 0, 0.05);
            }

            foreach (Embedding e in new[] { _users, _items, _categories, _ratings, _likedShares }.OfType<Embedding>().Concat(_userFields).Concat(_itemFields))
            {
                e.weight![0].zero_();
            }
        }
    }

    /// <summary>E, the embedding size.</summary>
    public int Size { get; }

    /// <summary>How history ratings are read.</summary>
    public RatingEncoding Ratings { get; }

    /// <summary>The scaled rating at or above which a history entry was liked (the label threshold).</summary>
    public float LikedRating { get; }

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

    /// <summary>
    /// History entries: items [B, ...], categories [B, ..., C], scaled ratings [B, ...] -> [B, ..., 2E], the item vector
    /// plus the rating vector (padding, rating 0, stays zero).
    /// </summary>
    public Tensor HistoryVectors(Tensor items, Tensor categories, Tensor ratings)
    {
        using var scope = NewDisposeScope();
        if (SharedRows.IsExpanded(items) && SharedRows.IsExpanded(categories) && SharedRows.IsExpanded(ratings))
        {
            // One user's history expanded over N candidates: embed it once.
            Tensor first = HistoryVectors(SharedRows.First(items), SharedRows.First(categories), SharedRows.First(ratings));
            return SharedRows.Expand(first, items.shape[0]).MoveToOuterDisposeScope();
        }

        Tensor vectors = ItemVectors(items, categories);                        // [..., 2E]
        return (_ratings is null ? vectors : vectors + _ratings.call(RatingCodes(ratings))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Whether each history entry was liked: scaled ratings [...] -> [...] bool, false on padding and for every entry
    /// under <see cref="RatingEncoding.None"/> (ratings ignored).
    /// </summary>
    public Tensor Liked(Tensor ratings)
    {
        ArgumentNullException.ThrowIfNull(ratings);
        if (Ratings == RatingEncoding.None)
        {
            return zeros_like(ratings, ScalarType.Bool);
        }

        // A hair under the threshold: the ratings and the threshold are both divided by the scale in float32.
        using Scalar liked = LikedRating - 1e-4f, zero = 0;
        return ratings.ge(liked).logical_and(ratings.gt(zero));
    }

    /// <summary>
    /// The share of the history the user liked as an E-wide field: liked [B, L], mask [B, L] (bool) -> [B, E], a learned
    /// vector per tenth (zeros for an empty history). Only in tables built without rating vectors (the field backbones).
    /// </summary>
    public Tensor LikedShare(Tensor liked, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(liked);
        ArgumentNullException.ThrowIfNull(mask);
        Embedding table = _likedShares ?? throw new InvalidOperationException("these embeddings were built with rating vectors, not the liked-share field");
        using var scope = NewDisposeScope();
        using Scalar zero = 0, one = 1, levels = Levels;
        Tensor count = mask.sum(1);                                             // [B] int64
        Tensor share = liked.sum(1).to_type(ScalarType.Float32) / count.clamp_min(one).to_type(ScalarType.Float32); // [B]
        Tensor code = ((share * levels).round().to_type(ScalarType.Int64) + 1) * count.gt(zero).to_type(ScalarType.Int64); // [B]
        return table.call(code).MoveToOuterDisposeScope();                     // [B, E]
    }

    /// <summary>Rating table rows: 0 for padding (rating 0), else the level or the sentiment (1 not liked, 2 liked).</summary>
    private Tensor RatingCodes(Tensor ratings)
    {
        using var scope = NewDisposeScope();
        using Scalar zero = 0, levels = Levels, nudge = 1e-3f, top = Levels, one = 1;
        Tensor real = ratings.gt(zero).to_type(ScalarType.Int64);
        Tensor codes = Ratings == RatingEncoding.Level
            ? (ratings * levels - nudge).ceil().clamp(zero, top).to_type(ScalarType.Int64).maximum(real) // tenths, at least 1 when real
            : real + Liked(ratings).to_type(ScalarType.Int64);                 // 1 not liked, 2 liked
        return codes.MoveToOuterDisposeScope();
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

    /// <summary>The short-term history with ratings: [B, L, 2E] (padding entries are zeros).</summary>
    public Tensor History(CtrBatch batch) => HistoryVectors(batch.HistoryItems, batch.HistoryCategories, batch.HistoryRatings);

    /// <summary>A sequence with ratings: [B, T, 2E].</summary>
    public Tensor Sequence(SequenceInput sequence) => HistoryVectors(sequence.Items, sequence.Categories, sequence.Ratings);

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
            _ratings?.Dispose();
            _likedShares?.Dispose();
        }

        base.Dispose(disposing);
    }
}
