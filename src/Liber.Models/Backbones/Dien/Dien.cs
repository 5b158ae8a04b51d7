using Liber.Models.Features;
using Liber.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// DIEN (Zhou et al., 2019). Interest extractor: a GRU over the short-term history's item vectors with their ratings
/// [B, L, 2E] -> states [B, L, H] (H = <see cref="BackboneOptions.GruHidden"/>, default 2E). Auxiliary loss
/// (training mode only, returned as <see cref="BackboneOutput.AuxiliaryLoss"/>): state h_t must tell the next
/// event's item e_{t+1} from a negative item by inner product, <c>-log σ(h_t·e_{t+1}) - log(1 - σ(h_t·e'_{t+1}))</c>,
/// averaged over the valid steps. Negatives are drawn from the real history entries of the same batch with
/// <c>torch.randint</c> on the default generator (so they follow item popularity, carry their categories and ratings, and are
/// reproducible under the run's seed); a draw equal to the positive item is dropped from the loss.
/// Interest evolution: DIN's attention unit scores each state against the target, a softmax over the valid
/// steps gives a_t, and an <see cref="Augru"/> over the states yields the final interest h'_L. Features:
/// [user ; profile ; target ; item fields ; h'_L].
/// </summary>
public sealed class Dien : CtrBackbone
{
    private readonly FeatureEmbeddings _embeddings;
    private readonly GRU _extractor;
    private readonly Linear? _project;
    private readonly TargetAttention _attention;
    private readonly Augru _evolution;

    /// <summary>Creates DIEN.</summary>
    public Dien(FeatureMap map, BackboneOptions options)
        : base(nameof(Dien))
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(options);
        _embeddings = new FeatureEmbeddings(map, options.EmbeddingSize, options.UserId, options.Ratings);
        int item = _embeddings.ItemWidth;
        int hidden = options.GruHidden ?? item;
        _extractor = nn.GRU(item, hidden, batchFirst: true);
        // Item vectors meet GRU states (attention query, auxiliary inner products): projected only when the widths differ.
        _project = hidden == item ? null : nn.Linear(item, hidden, hasBias: false);
        _attention = new TargetAttention(hidden, options.AttentionHidden);
        _evolution = new Augru(hidden, hidden);
        TargetWidth = item;
        OutputWidth = _embeddings.UserWidth + item + _embeddings.ItemFieldWidth + hidden;
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
        Tensor target = _embeddings.TargetItem(batch);                          // [B, 2E]
        Tensor history = _embeddings.History(batch);                            // [B, L, 2E]
        Tensor mask = batch.HistoryMask;                                        // [B, L]
        // Left-aligned sequences: padding only follows the real steps, so the states of real steps are exact.
        (Tensor states, _) = _extractor.call(history, null);                    // [B, L, H] (and the last state [1, B, H])
        Tensor query = Project(target);                                         // [B, H]
        Tensor scores = _attention.Weights(query, states, mask);                // [B, L]
        Tensor weights = scores.masked_fill(mask.logical_not(), -1e9f).softmax(-1) * mask.to_type(ScalarType.Float32); // [B, L], 0 on padding and on empty rows
        Tensor interest = _evolution.call(states, weights, mask);               // [B, H]
        Tensor features = cat([_embeddings.UserVector(batch), target, _embeddings.ItemFieldVector(batch), interest], 1); // [B, W]
        Tensor? auxiliary = training ? AuxiliaryLoss(batch, history, states) : null;
        return new BackboneOutput(features.MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope(), null, auxiliary?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The auxiliary loss of the extractor states [B, L, H] over the history vectors [B, L, 2E]: a scalar, 0 when no
    /// step has both a next event and a usable negative.
    /// </summary>
    private Tensor AuxiliaryLoss(CtrBatch batch, Tensor history, Tensor states)
    {
        using var scope = NewDisposeScope();
        long b = batch.HistoryItems.shape[0], l = batch.HistoryItems.shape[1];
        Tensor real = batch.HistoryMask.flatten().nonzero().squeeze(-1);        // [N] flat indices of real entries
        if (l < 2 || real.shape[0] == 0)
        {
            return (states.sum() * 0).MoveToOuterDisposeScope();
        }

        Tensor draw = real[randint(0, real.shape[0], [b, l - 1], dtype: ScalarType.Int64, device: real.device)]; // [B, L-1] flat indices
        Tensor negItems = batch.HistoryItems.flatten()[draw];                   // [B, L-1]
        Tensor negCategories = batch.HistoryCategories.flatten(0, 1)[draw];     // [B, L-1, C]
        Tensor negRatings = batch.HistoryRatings.flatten()[draw];               // [B, L-1]
        Tensor valid = batch.HistoryMask[.., 1..].logical_and(negItems.ne(batch.HistoryItems[.., 1..])).to_type(ScalarType.Float32); // [B, L-1]
        Tensor positives = Project(history[.., 1..]);                           // [B, L-1, H]
        Tensor negatives = Project(_embeddings.HistoryVectors(negItems, negCategories, negRatings)); // [B, L-1, H]
        Tensor h = states[.., ..^1];                                            // [B, L-1, H]
        Tensor pos = (h * positives).sum(-1);                                   // [B, L-1]
        Tensor neg = (h * negatives).sum(-1);                                   // [B, L-1]
        // -log σ(pos) - log(1 - σ(neg)) = softplus(-pos) + softplus(neg), numerically stable.
        Tensor loss = nn.functional.softplus(-pos) + nn.functional.softplus(neg); // [B, L-1]
        return ((loss * valid).sum() / valid.sum().clamp_min(1)).MoveToOuterDisposeScope();
    }

    private Tensor Project(Tensor items) => _project is null ? items.alias() : _project.call(items);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _embeddings.Dispose();
            _extractor.Dispose();
            _project?.Dispose();
            _attention.Dispose();
            _evolution.Dispose();
        }

        base.Dispose(disposing);
    }
}
