using Liber.Models.Features;
using Liber.Models.Layers;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// SIM with hard search (Pi et al., 2020): the general search unit keeps, of the whole history before the
/// sample, the events sharing a category with the target (the most recent T = 50, supplied by the collator);
/// the exact search unit pools them by target attention. As in SIM, a short-term DIN attention over the L
/// recent events is kept beside it.
/// </summary>
public sealed class Sim : CtrBackbone
{
    private readonly FeatureEmbeddings _embeddings;
    private readonly TargetAttention _shortAttention;
    private readonly TargetAttention _longAttention;
    private readonly LongHistoryRequest _search;

    /// <summary>Creates SIM.</summary>
    public Sim(FeatureMap map, BackboneOptions options)
        : base(nameof(Sim))
    {
        _search = new LongHistoryRequest(LongHistoryKind.CategorySearch, options.SearchLength);
        _embeddings = new FeatureEmbeddings(map, options.EmbeddingSize, options.UserId, options.Ratings);
        _shortAttention = new TargetAttention(_embeddings.ItemWidth, options.AttentionHidden, "short");
        _longAttention = new TargetAttention(_embeddings.ItemWidth, options.AttentionHidden, "long");
        TargetWidth = _embeddings.ItemWidth;
        OutputWidth = _embeddings.UserWidth + 3 * _embeddings.ItemWidth + _embeddings.ItemFieldWidth;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int OutputWidth { get; }

    /// <inheritdoc />
    public override int TargetWidth { get; }

    /// <inheritdoc />
    public override LongHistoryRequest? LongHistory => _search;

    /// <inheritdoc />
    public override BackboneOutput forward(CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        SequenceInput searched = batch.LongHistory ?? throw new ArgumentException("sim needs the collator's category-search history");
        Tensor target = _embeddings.TargetItem(batch);                                              // [B, 2E]
        Tensor shortInterest = _shortAttention.call(target, _embeddings.History(batch), batch.HistoryMask); // [B, 2E]
        Tensor longInterest = _longAttention.call(target, _embeddings.Sequence(searched), searched.Mask);  // [B, 2E]
        Tensor features = cat([_embeddings.UserVector(batch), target, _embeddings.ItemFieldVector(batch), shortInterest, longInterest], 1);
        return new BackboneOutput(features.MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _embeddings.Dispose();
            _shortAttention.Dispose();
            _longAttention.Dispose();
        }

        base.Dispose(disposing);
    }
}
