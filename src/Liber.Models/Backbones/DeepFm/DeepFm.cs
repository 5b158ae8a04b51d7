using Liber.Models.Features;
using Liber.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// DeepFM (Guo et al., 2017) over E-wide fields: user, each profile field, item, mean category, each item
/// field, and the mean item and mean category embedding of the short-term history. The FM part (first
/// order weights + pairwise interactions) is returned as <see cref="BackboneOutput.Logit"/>; the flattened
/// fields are the deep part's input (the shared head).
/// </summary>
public sealed class DeepFm : CtrBackbone
{
    private readonly FeatureEmbeddings _embeddings;
    private readonly FeatureEmbeddings _firstOrder;
    private readonly int _fields;

    /// <summary>Creates DeepFM.</summary>
    public DeepFm(FeatureMap map, BackboneOptions options)
        : base(nameof(DeepFm))
    {
        _embeddings = new FeatureEmbeddings(map, options.EmbeddingSize, options.UserId);
        // First-order weights: the same tables with width 1.
        _firstOrder = new FeatureEmbeddings(map, 1, options.UserId);
        _fields = 5 + map.UserFields.Count + map.ItemFields.Count;
        OutputWidth = _fields * options.EmbeddingSize;
        TargetWidth = _embeddings.ItemWidth;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int OutputWidth { get; }

    /// <inheritdoc />
    public override int TargetWidth { get; }

    /// <inheritdoc />
    public override BackboneOutput forward(CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        Tensor fields = stack(Fields(_embeddings, batch), 1);                  // [B, F, E]
        Tensor sum = fields.sum(1);                                             // [B, E]
        using Scalar half = 0.5f;                                               // held until the call returns (see FeatureEmbeddings)
        Tensor pairwise = (sum * sum - (fields * fields).sum(1)).sum(1).mul(half); // [B]
        Tensor first = stack(Fields(_firstOrder, batch), 1).sum([1, 2]);       // [B, F, 1] -> [B]
        Tensor target = _embeddings.TargetItem(batch);                          // [B, 2E]
        return new BackboneOutput(
            fields.flatten(1).MoveToOuterDisposeScope(),                        // [B, F E]
            target.MoveToOuterDisposeScope(),
            (first + pairwise).MoveToOuterDisposeScope());
    }

    private static List<Tensor> Fields(FeatureEmbeddings e, CtrBatch batch)
    {
        Tensor mask = batch.HistoryMask.unsqueeze(-1).to_type(ScalarType.Float32);       // [B, L, 1]
        using Scalar one = 1;                                                             // held until the call returns
        Tensor count = mask.sum(1).clamp_min(one);                                        // [B, 1]
        var list = new List<Tensor> { e.User(batch) };
        list.AddRange(e.UserFieldList(batch));
        list.Add(e.Item(batch.Items));
        list.Add(e.CategoryMean(batch.ItemCategories));
        list.AddRange(e.ItemFieldList(batch));
        list.Add((e.Item(batch.HistoryItems) * mask).sum(1) / count);                    // [B, E]
        list.Add((e.CategoryMean(batch.HistoryCategories) * mask).sum(1) / count);       // [B, E]
        return list;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _embeddings.Dispose();
            _firstOrder.Dispose();
        }

        base.Dispose(disposing);
    }
}
