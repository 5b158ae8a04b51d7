using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// DIEN's GRU with attentional update gate (AUGRU, Zhou et al., 2019), written by hand because TorchSharp has
/// no such cell. Per step t, with attention score a_t:
/// <c>r = σ(W_r x + U_r h + b_r)</c>, <c>u = a_t σ(W_u x + U_u h + b_u)</c>, <c>ĥ = tanh(W_h x + b_h + r (U_h h + c_h))</c>,
/// <c>h = (1 - u) h + u ĥ</c>. Padded steps get a_t = 0, so they leave the state unchanged; the input
/// projections of all steps are computed in one matrix product, only the recurrent part loops over L.
/// </summary>
public sealed class Augru : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear _input;
    private readonly Linear _hidden;

    /// <summary>Creates a cell from inputs of width <paramref name="input"/> to a state of width <paramref name="hidden"/>.</summary>
    public Augru(int input, int hidden, string name = nameof(Augru))
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(input, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        HiddenSize = hidden;
        _input = nn.Linear(input, 3 * hidden);
        _hidden = nn.Linear(hidden, 3 * hidden);
        RegisterComponents();
    }

    /// <summary>Width of the state.</summary>
    public int HiddenSize { get; }

    /// <summary>Inputs [B, L, I], attention [B, L], mask [B, L] (bool) -> final state [B, H], from a zero initial state.</summary>
    public override Tensor forward(Tensor inputs, Tensor attention, Tensor mask)
    {
        using var scope = NewDisposeScope();
        Tensor initial = zeros(inputs.shape[0], HiddenSize, dtype: inputs.dtype, device: inputs.device);
        return Run(inputs, attention, mask, initial).MoveToOuterDisposeScope();
    }

    /// <summary>Inputs [B, L, I], attention [B, L], mask [B, L] (bool), initial state [B, H] -> final state [B, H].</summary>
    public Tensor Run(Tensor inputs, Tensor attention, Tensor mask, Tensor initial)
    {
        using var scope = NewDisposeScope();
        // unbind once: slicing step t out of [B, L, ...] in the loop would make backward allocate a full-size gradient per step.
        Tensor[] gates = _input.call(inputs).unbind(1);                         // L x [B, 3H]
        Tensor[] scores = (attention * mask.to_type(attention.dtype)).unsqueeze(-1).unbind(1); // L x [B, 1], 0 on padding
        Tensor h = initial;                                                     // [B, H]
        for (int t = 0; t < gates.Length; t++)
        {
            Tensor[] x = gates[t].chunk(3, -1);                                 // 3 x [B, H]
            Tensor[] g = _hidden.call(h).chunk(3, -1);                          // 3 x [B, H]
            Tensor reset = (x[0] + g[0]).sigmoid();
            Tensor update = (x[1] + g[1]).sigmoid() * scores[t];                // [B, H] * [B, 1]
            Tensor candidate = (x[2] + reset * g[2]).tanh();
            h = (1 - update) * h + update * candidate;                          // [B, H]
        }

        return h.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _input.Dispose();
            _hidden.Dispose();
        }

        base.Dispose(disposing);
    }
}
