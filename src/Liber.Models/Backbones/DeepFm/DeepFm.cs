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

    /// <summary>Creates DeepFM.</summary>
    public DeepFm(FeatureMap map, BackboneOptions options)
        : base(nameof(DeepFm))
    {
        _embeddings = new FeatureEmbeddings(map, options.EmbeddingSize, options.UserId, options.Ratings, ratingVectors: false);
        // First-order weights: the same tables with width 1.
        _firstOrder = new FeatureEmbeddings(map, 1, options.UserId, options.Ratings, ratingVectors: false);
        OutputWidth = FieldInputs.Count(map) * options.EmbeddingSize;
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
        Tensor fields = FieldInputs.Stack(_embeddings, batch);                  // [B, F, E]
        Tensor sum = fields.sum(1);                                             // [B, E]
        using Scalar half = 0.5f;                                               // held until the call returns (see FeatureEmbeddings)
        Tensor pairwise = (sum * sum - (fields * fields).sum(1)).sum(1).mul(half); // [B]
        Tensor first = FieldInputs.Stack(_firstOrder, batch).sum([1, 2]);       // [B, F, 1] -> [B]
        Tensor target = _embeddings.TargetItem(batch);                          // [B, 2E]
        return new BackboneOutput(
            fields.flatten(1).MoveToOuterDisposeScope(),                        // [B, F E]
            target.MoveToOuterDisposeScope(),
            (first + pairwise).MoveToOuterDisposeScope());
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
