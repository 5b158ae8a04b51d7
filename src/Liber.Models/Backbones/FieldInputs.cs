using Liber.Models.Features;
using Liber.Models.Layers;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// The E-wide input fields of the field-interaction backbones (DCNv2, AutoInt), the same list DeepFM uses:
/// user, each profile field, target item, its mean category, each item field, and the masked mean of the
/// short-term history's item and category embeddings.
/// </summary>
internal static class FieldInputs
{
    /// <summary>Number of fields F: 5 + Fu + Fi.</summary>
    public static int Count(FeatureMap map) => 5 + map.UserFields.Count + map.ItemFields.Count;

    /// <summary>The fields stacked: [B, F, E].</summary>
    public static Tensor Stack(FeatureEmbeddings e, CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        Tensor mask = batch.HistoryMask.unsqueeze(-1).to_type(ScalarType.Float32);       // [B, L, 1]
        Tensor count = mask.sum(1).clamp_min(1);                                          // [B, 1]
        var list = new List<Tensor> { e.User(batch) };                                    // [B, E] each
        list.AddRange(e.UserFieldList(batch));
        list.Add(e.Item(batch.Items));
        list.Add(e.CategoryMean(batch.ItemCategories));
        list.AddRange(e.ItemFieldList(batch));
        list.Add((e.Item(batch.HistoryItems) * mask).sum(1) / count);                    // [B, L, E] -> [B, E]
        list.Add((e.CategoryMean(batch.HistoryCategories) * mask).sum(1) / count);       // [B, L, E] -> [B, E]
        return stack(list, 1).MoveToOuterDisposeScope();                                  // [B, F, E]
    }
}
