using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Layers;

/// <summary>A stack of Linear -> ReLU -> Dropout layers: [..., input] -> [..., hidden[^1]] (the input itself when hidden is empty).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Sequential _layers;
    private readonly Linear? _first;
    private readonly Sequential? _rest;

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

        // Views of the same modules for ForwardAfterFirst (created after registration, so the state dict is unchanged).
        if (modules.Count > 0)
        {
            _first = (Linear)modules[0].Item2;
            _rest = nn.Sequential(modules.Skip(1));
        }
    }

    /// <summary>Width of the output.</summary>
    public int OutputWidth { get; }

    /// <summary>The first linear layer (null when the stack is empty).</summary>
    public Linear? First => _first;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => _layers.call(input);

    /// <summary>
    /// The stack applied to a pre-activation of its first linear layer (computed by the caller, e.g. from parts of the input):
    /// the first activation and dropout, then the remaining layers.
    /// </summary>
    public Tensor ForwardAfterFirst(Tensor firstPreActivation) =>
        _rest is null ? throw new InvalidOperationException("the stack has no layers") : _rest.call(firstPreActivation);

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
