using Liber.Models.Features;
using Liber.Models.Layers;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// DIN (Zhou et al., 2018): the user's history is pooled by target attention against the candidate item,
/// and [user ; target ; item fields ; pooled interest] enters the final MLP. With a
/// <see cref="LongHistoryRequest"/> of kind Recent it is the <c>din-long</c> peer: the same attention over the
/// last T (200) events instead of the short-term L.
/// </summary>
public sealed class Din : CtrBackbone
{
    private readonly FeatureEmbeddings _embeddings;
    private readonly TargetAttention _attention;
    private readonly LongHistoryRequest? _long;

    /// <summary>Creates DIN over the short-term history, or over a long history when <paramref name="longHistory"/> is given.</summary>
    public Din(FeatureMap map, BackboneOptions options, LongHistoryRequest? longHistory = null)
        : base(nameof(Din))
    {
        _long = longHistory;
        _embeddings = new FeatureEmbeddings(map, options.EmbeddingSize, options.UserId, options.Ratings);
        _attention = new TargetAttention(_embeddings.ItemWidth, options.AttentionHidden);
        TargetWidth = _embeddings.ItemWidth;
        OutputWidth = _embeddings.UserWidth + 2 * _embeddings.ItemWidth + _embeddings.ItemFieldWidth;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int OutputWidth { get; }

    /// <inheritdoc />
    public override int TargetWidth { get; }

    /// <inheritdoc />
    public override LongHistoryRequest? LongHistory => _long;

    /// <inheritdoc />
    public override BackboneOutput forward(CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        Tensor target = _embeddings.TargetItem(batch);                          // [B, 2E]
        Tensor history, mask;
        if (_long is null)
        {
            history = _embeddings.History(batch);                               // [B, L, 2E]
            mask = batch.HistoryMask;                                           // [B, L]
        }
        else
        {
            SequenceInput seq = batch.LongHistory ?? throw new ArgumentException("din-long needs the collator's long history");
            history = _embeddings.Sequence(seq);                                // [B, T, 2E]
            mask = seq.Mask;
        }

        Tensor interest = _attention.call(target, history, mask);              // [B, 2E]
        Tensor features = cat([_embeddings.UserVector(batch), target, _embeddings.ItemFieldVector(batch), interest], 1); // [B, W]
        return new BackboneOutput(features.MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _embeddings.Dispose();
            _attention.Dispose();
        }

        base.Dispose(disposing);
    }
}
