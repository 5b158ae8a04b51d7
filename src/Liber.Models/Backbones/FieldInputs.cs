using Liber.Models.Features;
using Liber.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// The E-wide input fields of the field-interaction backbones (DeepFM, DCNv2, AutoInt):
/// user, each profile field, target item, its mean category, each item field, and the short-term history split by
/// sentiment: the mean item and mean category embedding of the liked entries (rating at or above the label threshold),
/// then of the other entries, so that field interactions can tell liked history from disliked history, and a field for
/// the share of the history the user liked (a strong per-user signal the two means alone lose).
/// </summary>
internal static class FieldInputs
{
    /// <summary>Number of fields F: 8 + Fu + Fi.</summary>
    public static int Count(FeatureMap map) => 8 + map.UserFields.Count + map.ItemFields.Count;

    /// <summary>The fields stacked: [B, F, E].</summary>
    public static Tensor Stack(FeatureEmbeddings e, CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        var list = new List<Tensor> { e.User(batch) };                                    // [B, E] each
        list.AddRange(e.UserFieldList(batch));
        list.Add(e.Item(batch.Items));
        list.Add(e.CategoryMean(batch.ItemCategories));
        list.AddRange(e.ItemFieldList(batch));
        Tensor items = batch.HistoryItems, categories = batch.HistoryCategories, mask = batch.HistoryMask, ratings = batch.HistoryRatings;
        bool shared = SharedRows.IsExpanded(items) && SharedRows.IsExpanded(categories) && SharedRows.IsExpanded(mask) && SharedRows.IsExpanded(ratings);
        if (shared)
        {
            // One user's history expanded over N candidates: pool it once.
            (items, categories, mask, ratings) = (SharedRows.First(items), SharedRows.First(categories), SharedRows.First(mask), SharedRows.First(ratings));
        }

        Tensor liked = e.Liked(ratings).logical_and(mask);                               // [B, L]
        Tensor other = mask.logical_and(liked.logical_not());                             // [B, L]
        Tensor itemVectors = e.Item(items), categoryVectors = e.CategoryMean(categories); // [B, L, E] each
        using Scalar one = 1;                                                             // held until the call returns (see FeatureEmbeddings)
        foreach (Tensor part in new[] { liked, other })
        {
            Tensor m = part.unsqueeze(-1).to_type(ScalarType.Float32);                    // [B, L, 1]
            Tensor partCount = m.sum(1).clamp_min(one);                                   // [B, 1]
            Tensor pooledItems = (itemVectors * m).sum(1) / partCount;                    // [B, L, E] -> [B, E]
            Tensor pooledCategories = (categoryVectors * m).sum(1) / partCount;           // [B, L, E] -> [B, E]
            list.Add(shared ? SharedRows.Expand(pooledItems, batch.Size) : pooledItems);
            list.Add(shared ? SharedRows.Expand(pooledCategories, batch.Size) : pooledCategories);
        }

        Tensor likedShare = e.LikedShare(liked, mask);                                    // [B, E]
        list.Add(shared ? SharedRows.Expand(likedShare, batch.Size) : likedShare);
        return stack(list, 1).MoveToOuterDisposeScope();                                  // [B, F, E]
    }
}
