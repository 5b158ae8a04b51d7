using Liber.Models.Features;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Layers;

/// <summary>
/// DIN's local activation unit: each history entry k is weighted by an MLP over [q ; k ; q - k ; q * k]
/// with the target q, without softmax normalisation (as in DIN, so the pooled vector keeps the strength of
/// the user's interest); padded entries get weight 0.
/// </summary>
public sealed class TargetAttention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Mlp _mlp;
    private readonly Linear _score;

    /// <summary>Creates a unit for vectors of width <paramref name="width"/>.</summary>
    public TargetAttention(int width, IReadOnlyList<int> hidden, string name = nameof(TargetAttention))
        : base(name)
    {
        _mlp = new Mlp(4 * width, hidden);
        _score = nn.Linear(_mlp.OutputWidth, 1);
        RegisterComponents();
    }

    /// <summary>Pools keys [B, T, H] against query [B, H] under mask [B, T] (bool) -> [B, H].</summary>
    public override Tensor forward(Tensor query, Tensor keys, Tensor mask)
    {
        using var scope = NewDisposeScope();
        Tensor weights = Weights(query, keys, mask);                            // [B, T]
        return weights.unsqueeze(1).bmm(keys).squeeze(1).MoveToOuterDisposeScope(); // [B, 1, T] x [B, T, H] -> [B, H]
    }

    /// <summary>The attention weights [B, T] (0 on padding).</summary>
    public Tensor Weights(Tensor query, Tensor keys, Tensor mask)
    {
        using var scope = NewDisposeScope();
        Tensor scores;
        if (_mlp.First is Linear first)
        {
            // W [q ; k ; q - k ; q * k] + b = (Wq + Wd) q + (Wk - Wd) k + Wp (q * k) + b: the same first layer without
            // building the [B, T, 4H] input, half the multiply-adds (the query term once per row, not per entry).
            // Hand-written because DIN's attention is the hot path of training and of online ranking (benchmarked).
            long h = keys.shape[2];
            Tensor w = first.weight!;                                           // [H1, 4H]
            Tensor wq = w.narrow(1, 0, h), wk = w.narrow(1, h, h), wd = w.narrow(1, 2 * h, h), wp = w.narrow(1, 3 * h, h);
            Tensor perRow = nn.functional.linear(query, wq + wd, first.bias);   // [B, H1]
            // Keys shared by every row (one user's history against N candidates) get their term once: [1, T, H1].
            Tensor keyTerm = SharedRows.IsExpanded(keys) ? nn.functional.linear(SharedRows.First(keys), wk - wd) : nn.functional.linear(keys, wk - wd);
            Tensor perEntry = keyTerm                                           // [B or 1, T, H1]
                + nn.functional.linear(query.unsqueeze(1) * keys, wp);         // [B, T, H1]
            scores = _score.call(_mlp.ForwardAfterFirst(perEntry + perRow.unsqueeze(1))).squeeze(-1); // [B, T]
        }
        else
        {
            Tensor q = query.unsqueeze(1).expand_as(keys);                      // [B, T, H]
            Tensor features = cat([q, keys, q - keys, q * keys], -1);           // [B, T, 4H]
            scores = _score.call(_mlp.call(features)).squeeze(-1);             // [B, T]
        }

        using Scalar zero = 0;                                                  // held until the call returns (see FeatureEmbeddings)
        return scores.masked_fill(mask.logical_not(), zero).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _mlp.Dispose();
            _score.Dispose();
        }

        base.Dispose(disposing);
    }
}
