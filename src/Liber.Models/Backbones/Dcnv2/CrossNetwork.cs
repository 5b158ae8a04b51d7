using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// DCN-V2's cross network (Wang et al., 2021): <c>x_{l+1} = x_0 * (W_l x_l + b_l) + x_l</c> for l = 0 .. layers - 1,
/// with a full-rank W_l (width x width) by default, or the low-rank <c>W_l = U_l V_l^T</c> (rank r) of the
/// paper's cost-efficient variant when a rank is given. With zero layers it is the identity.
/// </summary>
public sealed class CrossNetwork : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> _layers;

    /// <summary>Creates <paramref name="layers"/> cross layers over vectors of width <paramref name="width"/>; <paramref name="rank"/> null = full rank.</summary>
    public CrossNetwork(int width, int layers, int? rank = null, string name = nameof(CrossNetwork))
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        if (rank is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, "cross rank must be at least 1");
        }

        Width = width;
        _layers = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => Layer(width, rank)).ToArray());
        RegisterComponents();
    }

    /// <summary>Width of the input and of the output.</summary>
    public int Width { get; }

    /// <summary>The affine map <c>W_l x + b_l</c> of layer l (a Linear, or V^T then U for low rank).</summary>
    public nn.Module<Tensor, Tensor> this[int layer] => _layers[layer];

    /// <summary>Number of cross layers.</summary>
    public int Count => _layers.Count;

    /// <summary>x0 [B, D] -> x_L [B, D].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = input;                                                       // [B, D]
        foreach (nn.Module<Tensor, Tensor> layer in _layers)
        {
            x = input * layer.call(x) + x;                                      // [B, D] * [B, D] + [B, D]
        }

        return x.MoveToOuterDisposeScope();
    }

    private static nn.Module<Tensor, Tensor> Layer(int width, int? rank) =>
        rank is int r && r < width
            ? nn.Sequential(("v", nn.Linear(width, r, hasBias: false)), ("u", nn.Linear(r, width)))
            : nn.Linear(width, width);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _layers.Dispose();
        }

        base.Dispose(disposing);
    }
}
