using Liber.Models.Features;
using Liber.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// AutoInt (Song et al., 2019): the E-wide fields DeepFM uses (user, profile fields, target item, its mean
/// category, item fields, pooled short-term history) go through <see cref="BackboneOptions.AttentionLayers"/>
/// (3) interacting layers of <see cref="BackboneOptions.AttentionHeads"/> (2) heads, each head
/// <see cref="BackboneOptions.EmbeddingSize"/> (32) wide, with residual connections; the flattened result
/// [B, F H E] is the input of the shared head (200-80; an empty <c>hidden</c> gives the paper's single
/// output layer), where UIF's vector joins it with LIBER.
/// </summary>
public sealed class AutoInt : CtrBackbone
{
    private readonly FeatureEmbeddings _embeddings;
    private readonly ModuleList<InteractingLayer> _layers;

    /// <summary>Creates AutoInt.</summary>
    public AutoInt(FeatureMap map, BackboneOptions options)
        : base(nameof(AutoInt))
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(options);
        _embeddings = new FeatureEmbeddings(map, options.EmbeddingSize, options.UserId, options.Ratings, ratingVectors: false);
        var layers = new InteractingLayer[options.AttentionLayers];
        int width = options.EmbeddingSize;
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i] = new InteractingLayer(width, options.AttentionHeads, options.EmbeddingSize);
            width = layers[i].OutputWidth;
        }

        _layers = nn.ModuleList(layers);
        OutputWidth = FieldInputs.Count(map) * width;
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
        foreach (InteractingLayer layer in _layers)
        {
            fields = layer.call(fields);                                        // [B, F, H E]
        }

        Tensor target = _embeddings.TargetItem(batch);                          // [B, 2E]
        return new BackboneOutput(fields.flatten(1).MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope()); // [B, F H E]
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _embeddings.Dispose();
            _layers.Dispose();
        }

        base.Dispose(disposing);
    }
}
