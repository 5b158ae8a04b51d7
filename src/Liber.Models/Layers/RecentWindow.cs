using Liber.Models.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Layers;

/// <summary>
/// Statistics of the short-term window every backbone already reads (the last L events of <see cref="CtrBatch"/>), as a
/// numeric group of <see cref="Width"/> columns on [0, 1]: the window's fill (events / L), its liked share, its mean
/// scaled rating, the share of the window that shares a category with the target, the liked share of those, and the
/// rating of the most recent event. Computed inside the model from the batch's history tensors, so training, evaluation
/// and serving read exactly the same values without any new input. They are the short-term columns the GBDT peer reads
/// (<c>Gbdt.GbdtFeatures</c>, without the time gap, which the batch does not carry); an MLP forms such shares from an
/// attention-pooled sequence only approximately.
/// </summary>
public static class RecentWindow
{
    /// <summary>Number of columns.</summary>
    public const int Width = 6;

    /// <summary>
    /// The window statistics of a batch: [B, <see cref="Width"/>]. <paramref name="likedRating"/> is the label threshold on
    /// the scaled ratings (<see cref="FeatureMap.LikedRating"/>); with <paramref name="readRatings"/> false (a model that
    /// ignores ratings) the rating columns are constants, so nothing of the ratings leaks in. Empty windows give 0 fill,
    /// 0.5 for the shares and ratings.
    /// </summary>
    public static Tensor Compute(CtrBatch batch, float likedRating, bool readRatings)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        Tensor mask = batch.HistoryMask, ratings = batch.HistoryRatings, categories = batch.HistoryCategories;
        if (SharedRows.IsExpanded(mask) && SharedRows.IsExpanded(ratings) && SharedRows.IsExpanded(categories))
        {
            // One user's history over N candidates: the history columns once, the target columns broadcast.
            (mask, ratings, categories) = (SharedRows.First(mask), SharedRows.First(ratings), SharedRows.First(categories));
        }

        using Scalar zero = 0, one = 1, liked = likedRating - 1e-4f;
        long length = mask.shape[1];
        Tensor real = mask.to_type(ScalarType.Float32);                                   // [b, L]
        Tensor count = real.sum(1);                                                       // [b]
        Tensor some = count.gt(zero);                                                     // [b]
        Tensor denominator = count.clamp_min(one);
        Tensor halves = full_like(count, 0.5f);                                          // [b]
        Tensor likes = readRatings ? ratings.ge(liked).logical_and(mask).to_type(ScalarType.Float32) : zeros_like(real);
        Tensor likedShare = readRatings ? where(some, likes.sum(1) / denominator, halves) : halves;                // [b]
        Tensor meanRating = readRatings ? where(some, (ratings * real).sum(1) / denominator, halves) : halves;

        // The most recent entry is the last real one (histories are left-aligned, oldest first).
        Tensor lastIndex = (count.to_type(ScalarType.Int64) - 1).clamp_min(zero).unsqueeze(1); // [b, 1]
        Tensor lastRating = readRatings ? where(some, ratings.gather(1, lastIndex).squeeze(1), halves) : halves;

        // Entries sharing a category with the target: [b, L, C, 1] == [B, 1, 1, C] -> [B, L].
        Tensor target = batch.ItemCategories;                                             // [B, C]
        Tensor match = categories.unsqueeze(-1).eq(target.unsqueeze(1).unsqueeze(1))
            .logical_and(categories.gt(zero).unsqueeze(-1)).any(-1).any(-1).logical_and(mask); // [B, L]
        Tensor matched = match.to_type(ScalarType.Float32);
        Tensor matchCount = matched.sum(1);                                               // [B]
        Tensor matchLiked = readRatings ? (matched * likes).sum(1) : zeros_like(matchCount);
        long b = batch.Size;
        Tensor likedShareB = SharedRows.Expand(likedShare.unsqueeze(1), b).squeeze(1);
        Tensor matchShare = readRatings ? where(matchCount.gt(zero), matchLiked / matchCount.clamp_min(one), likedShareB) : full_like(matchCount, 0.5f);
        Tensor columns = stack(
        [
            SharedRows.Expand((count / length).unsqueeze(1), b).squeeze(1),
            likedShareB,
            SharedRows.Expand(meanRating.unsqueeze(1), b).squeeze(1),
            matchCount / length,
            matchShare,
            SharedRows.Expand(lastRating.unsqueeze(1), b).squeeze(1),
        ], 1);                                                                            // [B, 6]
        return columns.MoveToOuterDisposeScope();
    }
}
