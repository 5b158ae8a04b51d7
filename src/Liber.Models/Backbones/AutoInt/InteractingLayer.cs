using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// One AutoInt interacting layer (Song et al., 2019): multi-head self-attention across fields with a residual
/// connection, <c>ReLU(concat_h(softmax(Q_h K_h^T / sqrt(d)) V_h) + W_res x)</c>. The 1/sqrt(d) scaling is not in
/// the paper; it keeps the softmax out of saturation with d = 32 (as Transformer attention does).
/// </summary>
public sealed class InteractingLayer : nn.Module<Tensor, Tensor>
{
    private readonly Linear _query;
    private readonly Linear _key;
    private readonly Linear _value;
    private readonly Linear _residual;
    private readonly int _heads;
    private readonly int _size;

    /// <summary>Creates a layer from fields of width <paramref name="input"/> to <paramref name="heads"/> heads of width <paramref name="size"/>.</summary>
    public InteractingLayer(int input, int heads, int size, string name = nameof(InteractingLayer))
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(input, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _heads = heads;
        _size = size;
        OutputWidth = heads * size;
        _query = nn.Linear(input, OutputWidth, hasBias: false);
        _key = nn.Linear(input, OutputWidth, hasBias: false);
        _value = nn.Linear(input, OutputWidth, hasBias: false);
        _residual = nn.Linear(input, OutputWidth, hasBias: false);
        RegisterComponents();
    }

    /// <summary>Width of each output field: heads x size.</summary>
    public int OutputWidth { get; }

    /// <summary>Fields [B, F, input] -> [B, F, heads size].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long b = input.shape[0], f = input.shape[1];
        Tensor q = Heads(_query.call(input), b, f);                                 // [B, H, F, d]
        Tensor k = Heads(_key.call(input), b, f);                                   // [B, H, F, d]
        Tensor v = Heads(_value.call(input), b, f);                                 // [B, H, F, d]
        Tensor weights = (q.matmul(k.transpose(-2, -1)) / Math.Sqrt(_size)).softmax(-1); // [B, H, F, F]
        Tensor mixed = weights.matmul(v).transpose(1, 2).reshape(b, f, OutputWidth);     // [B, H, F, d] -> [B, F, H d]
        return nn.functional.relu(mixed + _residual.call(input)).MoveToOuterDisposeScope();
    }

    private Tensor Heads(Tensor x, long b, long f) => x.view(b, f, _heads, _size).transpose(1, 2);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _query.Dispose();
            _key.Dispose();
            _value.Dispose();
            _residual.Dispose();
        }

        base.Dispose(disposing);
    }
}
