using Liber.Models.Features;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Fusion;

/// <summary>
/// LIBER's User Interest Fusion: each visible partition p gets a key
/// <c>k_p = tanh(W_s s_p + m_p W_h h_p + r_rank(p))</c> from its frozen summary vector s_p, its shift vector
/// h_p (m_p = 0 for a user's first partition) and a learned recency-rank embedding; the target item's
/// embedding scores the keys (scaled dot product), absent partitions are masked, and the weighted sum is
/// projected to the output size (32). A sample with no visible partition gets exactly zeros (the
/// projection has no bias), never NaN.
/// </summary>
public sealed class Uif : nn.Module<LiberInput, Tensor, Tensor>
{
    private readonly Linear _summary;
    private readonly Linear? _shift;
    private readonly Embedding _rank;
    private readonly Linear _query;
    private readonly Linear _output;
    private readonly string _variant;
    private readonly double _scale;

    /// <summary>Creates the layer for targets of width <paramref name="targetWidth"/>.</summary>
    public Uif(FusionOptions options, int targetWidth)
        : base(nameof(Uif))
    {
        options.Validate();
        _variant = options.Variant;
        _scale = 1.0 / Math.Sqrt(options.HiddenSize);
        _summary = nn.Linear(options.InputSize, options.HiddenSize);
        _shift = options.UsesShift ? nn.Linear(options.InputSize, options.HiddenSize, hasBias: false) : null;
        _rank = nn.Embedding(options.MaxPartitions + 1, options.HiddenSize);
        _query = nn.Linear(targetWidth, options.HiddenSize);
        _output = nn.Linear(options.HiddenSize, options.OutputSize, hasBias: false);
        OutputSize = options.OutputSize;
        RegisterComponents();
    }

    /// <summary>Width of the fused vector.</summary>
    public int OutputSize { get; }

    /// <summary>Fuses the partitions of a batch against targets [B, Tw] -> [B, OutputSize].</summary>
    public override Tensor forward(LiberInput input, Tensor target)
    {
        using var scope = NewDisposeScope();
        Tensor keys = Keys(input);                                              // [B, P, H]
        Tensor weights = WeightsOf(input, keys, target);                        // [B, P]
        Tensor pooled = weights.unsqueeze(1).bmm(keys).squeeze(1);              // [B, 1, P] x [B, P, H] -> [B, H]
        return _output.call(pooled).MoveToOuterDisposeScope();                  // [B, OutputSize]
    }

    /// <summary>The weight of each partition slot [B, P] (sums to 1 over visible slots, 0 where none is visible).</summary>
    public Tensor Weights(LiberInput input, Tensor target)
    {
        using var scope = NewDisposeScope();
        return WeightsOf(input, Keys(input), target).MoveToOuterDisposeScope();
    }

    private Tensor Keys(LiberInput input)
    {
        Tensor k = _summary.call(input.Summaries) + _rank.call(input.Ranks);    // [B, P, D] -> [B, P, H]
        if (_shift is not null)
        {
            k += _shift.call(input.Shifts) * input.ShiftMask.unsqueeze(-1).to_type(ScalarType.Float32);
        }

        return k.tanh();
    }

    private Tensor WeightsOf(LiberInput input, Tensor keys, Tensor target)
    {
        Tensor mask = input.Mask.to_type(ScalarType.Float32);                  // [B, P]
        using Scalar zero = 0, one = 1, scale = _scale, minus = -1e9f;         // held until the calls return (see FeatureEmbeddings)
        switch (_variant)
        {
            case "mean":
                return mask / mask.sum(1, keepdim: true).clamp_min(one);
            case "last":
                return input.Ranks.eq(zero).to_type(ScalarType.Float32) * mask;
            default:
                Tensor q = _query.call(target).unsqueeze(-1);                   // [B, Tw] -> [B, H, 1]
                Tensor scores = keys.bmm(q).squeeze(-1).mul(scale);            // [B, P]
                scores = scores.masked_fill(input.Mask.logical_not(), minus);
                // All-masked rows softmax to uniform; multiplying by the mask turns them into zeros.
                return scores.softmax(1) * mask;
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _summary.Dispose();
            _shift?.Dispose();
            _rank.Dispose();
            _query.Dispose();
            _output.Dispose();
        }

        base.Dispose(disposing);
    }
}
