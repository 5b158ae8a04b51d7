using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Layers;

/// <summary>A stack of Linear -> ReLU -> Dropout layers: [..., input] -> [..., hidden[^1]] (the input itself when hidden is empty).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Sequential _layers;

    /// <summary>Creates the stack.</summary>
    public Mlp(int input, IReadOnlyList<int> hidden, double dropout = 0, string name = nameof(Mlp))
        : base(name)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        int width = input;
        for (int i = 0; i < hidden.Count; i++)
        {
            modules.Add(($"linear{i}", nn.Linear(width, hidden[i])));
            modules.Add(($"relu{i}", nn.ReLU()));
            if (dropout > 0)
            {
                modules.Add(($"dropout{i}", nn.Dropout(dropout)));
            }

            width = hidden[i];
        }

        OutputWidth = width;
        _layers = nn.Sequential(modules);
        RegisterComponents();
    }

    /// <summary>Width of the output.</summary>
    public int OutputWidth { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => _layers.call(input);

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
