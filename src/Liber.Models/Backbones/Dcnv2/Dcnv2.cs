using Liber.Models.Features;
using Liber.Models.Layers;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// DCN-V2 (Wang et al., 2021) in its stacked structure: the E-wide fields DeepFM uses (user, profile fields,
/// target item, its mean category, item fields, pooled short-term history) are flattened into x0 [B, F E],
/// go through <see cref="BackboneOptions.CrossLayers"/> (3) cross layers (full rank unless
/// <see cref="BackboneOptions.CrossRank"/> is set), and the cross output is the input of the shared head,
/// which is the deep network stacked on top (200-80). With LIBER, UIF's vector joins the head's input next
/// to the cross output.
/// </summary>
public sealed class Dcnv2 : CtrBackbone
{
    private readonly FeatureEmbeddings _embeddings;
    private readonly CrossNetwork _cross;

    /// <summary>Creates DCN-V2.</summary>
    public Dcnv2(FeatureMap map, BackboneOptions options)
        : base(nameof(Dcnv2))
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(options);
        _embeddings = new FeatureEmbeddings(map, options.EmbeddingSize, options.UserId, options.Ratings, ratingVectors: false);
        OutputWidth = FieldInputs.Count(map) * options.EmbeddingSize;
        _cross = new CrossNetwork(OutputWidth, options.CrossLayers, options.CrossRank);
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
        Tensor x0 = FieldInputs.Stack(_embeddings, batch).flatten(1);          // [B, F, E] -> [B, F E]
        Tensor crossed = _cross.call(x0);                                       // [B, F E]
        Tensor target = _embeddings.TargetItem(batch);                          // [B, 2E]
        return new BackboneOutput(crossed.MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _embeddings.Dispose();
            _cross.Dispose();
        }

        base.Dispose(disposing);
    }
}
