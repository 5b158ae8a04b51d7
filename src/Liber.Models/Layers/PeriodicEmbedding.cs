using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Layers;

/// <summary>
/// Periodic embeddings of numeric columns (PLR: periodic, linear, ReLU; Gorishniy, Rubachev and Babenko, "On Embeddings
/// for Numerical Features in Tabular Deep Learning", NeurIPS 2022): each column <c>x_f</c> becomes
/// <c>ReLU(W_f [cos(2π c_f x_f) ; sin(2π c_f x_f)] + b_f)</c>, with <see cref="Frequencies"/> learned frequencies
/// <c>c_f</c> per column (initialised from N(0, <see cref="Scale"/>²)) and a linear map of its own per column. An MLP
/// over raw values forms thresholds ("fewer than 5 earlier events", "a liked share above 0.8") only through many
/// piecewise-linear units; the periodic basis gives every column such shapes directly, which is what lets MLPs match
/// gradient-boosted trees on numeric features in that paper. [B, F] -> [B, F · <see cref="Size"/>].
/// </summary>
public sealed class PeriodicEmbedding : nn.Module<Tensor, Tensor>
{
    /// <summary>Frequencies per column.</summary>
    public const int Frequencies = 16;

    /// <summary>Width of each column's embedding.</summary>
    public const int Size = 16;

    /// <summary>Standard deviation of the initial frequencies (the columns lie in about [0, 1]).</summary>
    public const float Scale = 1f;

    private readonly Parameter _frequencies; // [F, k]
    private readonly Parameter _weight;      // [F, 2k, d]
    private readonly Parameter _bias;        // [F, d]

    /// <summary>Creates the embeddings of <paramref name="columns"/> numeric columns.</summary>
    public PeriodicEmbedding(int columns, string name = nameof(PeriodicEmbedding))
        : base(name)
    {
        if (columns < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "a periodic embedding needs at least one column");
        }

        Columns = columns;
        _frequencies = nn.Parameter(randn(columns, Frequencies) * Scale);

        // Each column's linear map initialised as nn.Linear's: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        double bound = 1 / Math.Sqrt(2 * Frequencies);
        _weight = nn.Parameter((rand(columns, 2 * Frequencies, Size) * 2 - 1) * bound);
        _bias = nn.Parameter((rand(columns, Size) * 2 - 1) * bound);
        RegisterComponents();
    }

    /// <summary>Number of numeric columns.</summary>
    public int Columns { get; }

    /// <summary>Width of the output: <see cref="Columns"/> × <see cref="Size"/>.</summary>
    public int OutputWidth => Columns * Size;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 2 || input.shape[1] != Columns)
        {
            throw new ArgumentException($"expected [B, {Columns}] numeric columns, got [{string.Join(", ", input.shape)}]", nameof(input));
        }

        using var scope = NewDisposeScope();
        Tensor angles = input.unsqueeze(-1) * _frequencies * (2 * Math.PI);      // [B, F, k]
        Tensor basis = cat([angles.cos(), angles.sin()], -1);                    // [B, F, 2k]
        Tensor embedded = einsum("bfk,fkd->bfd", basis, _weight) + _bias;       // [B, F, d]
        return nn.functional.relu(embedded).flatten(1).MoveToOuterDisposeScope(); // [B, F·d]
    }
}
