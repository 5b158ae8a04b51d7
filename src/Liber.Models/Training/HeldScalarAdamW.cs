using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Training;

/// <summary>
/// AdamW (decoupled weight decay, Loshchilov and Hutter) with the same arithmetic, in the same order, as
/// TorchSharp 0.107's <c>torch.optim.AdamW</c> step (no amsgrad, no maximize), but with every <see cref="Scalar"/>
/// it passes to libtorch held in a variable until the call returns.
/// </summary>
/// <remarks>
/// Written by hand because TorchSharp's own step converts doubles to <see cref="Scalar"/> implicitly
/// (<c>exp_avg.mul_(beta1)</c>): the temporary is unreachable while the native call still reads it, and the
/// finalizer thread can free it mid-call. That failed a CI run once inside <c>AdamW.step</c> with libtorch's
/// "Expected false to be true" from <c>Scalar::toFloat</c> (dotnet/TorchSharp PRs #1434 and #1496 address it
/// upstream; neither is released in 0.107). The updates equal TorchSharp's (a test compares both step by step),
/// so runs made with either optimizer agree.
/// </remarks>
public sealed class HeldScalarAdamW : IDisposable
{
    private readonly TorchSharp.Modules.Parameter[] _parameters;
    private readonly Tensor[] _expAvg;
    private readonly Tensor[] _expAvgSq;
    private readonly long[] _steps;
    private readonly double _lr, _beta1, _beta2, _weightDecay;
    private readonly Scalar _beta1Scalar, _oneMinusBeta1, _beta2Scalar, _oneMinusBeta2, _eps, _decayFactor;
    private bool _disposed;

    /// <summary>Creates the optimizer over <paramref name="parameters"/> with zero moment estimates.</summary>
    /// <param name="parameters">The parameters to update (each needs a gradient after backward to be updated).</param>
    /// <param name="lr">Learning rate.</param>
    /// <param name="beta1">Decay of the first moment (default 0.9, as TorchSharp).</param>
    /// <param name="beta2">Decay of the second moment (default 0.999).</param>
    /// <param name="eps">Added to the denominator (default 1e-8).</param>
    /// <param name="weightDecay">Decoupled weight decay (default 0).</param>
    public HeldScalarAdamW(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(lr > 0) || double.IsInfinity(lr)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "the learning rate must be a positive number");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must lie in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must lie in [0, 1)");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must not be negative");
        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "the weight decay must not be negative");
        _parameters = parameters.ToArray();
        _lr = lr;
        _beta1 = beta1;
        _beta2 = beta2;
        _weightDecay = weightDecay;
        _expAvg = new Tensor[_parameters.Length];
        _expAvgSq = new Tensor[_parameters.Length];
        _steps = new long[_parameters.Length];
        for (int i = 0; i < _parameters.Length; i++)
        {
            _expAvg[i] = zeros_like(_parameters[i]).DetachFromDisposeScope();
            _expAvgSq[i] = zeros_like(_parameters[i]).DetachFromDisposeScope();
        }

        _beta1Scalar = beta1.ToScalar();
        _oneMinusBeta1 = (1 - beta1).ToScalar();
        _beta2Scalar = beta2.ToScalar();
        _oneMinusBeta2 = (1 - beta2).ToScalar();
        _eps = eps.ToScalar();
        _decayFactor = (1 - lr * weightDecay).ToScalar();
    }

    /// <summary>Sets every parameter's gradient to zero (as TorchSharp's <c>zero_grad</c>).</summary>
    public void ZeroGrad()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (TorchSharp.Modules.Parameter p in _parameters)
        {
            using Tensor? grad = p.grad;
            grad?.zero_();
        }
    }

    /// <summary>One AdamW update of every parameter that has a gradient.</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < _parameters.Length; i++)
        {
            TorchSharp.Modules.Parameter param = _parameters[i];
            Tensor? grad = param.grad;
            if (grad is null) continue;
            long step = ++_steps[i];
            if (_weightDecay > 0)
            {
                param.mul_(_decayFactor);                                       // x * 1 is x exactly: skipped without decay
            }

            double biasCorrection1 = 1 - Math.Pow(_beta1, step);
            double biasCorrection2 = 1 - Math.Pow(_beta2, step);
            _expAvg[i].mul_(_beta1Scalar).add_(grad, alpha: _oneMinusBeta1);
            _expAvgSq[i].mul_(_beta2Scalar).addcmul_(grad, grad, value: _oneMinusBeta2);
            using Scalar root = Math.Sqrt(biasCorrection2).ToScalar();
            using Scalar stepSize = (-(_lr / biasCorrection1)).ToScalar();
            Tensor denom = _expAvgSq[i].sqrt().div_(root).add_(_eps);
            param.addcdiv_(_expAvg[i], denom, value: stepSize);
        }
    }

    /// <summary>Frees the moment estimates and the held scalars.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (Tensor t in _expAvg) t.Dispose();
        foreach (Tensor t in _expAvgSq) t.Dispose();
        _beta1Scalar.Dispose();
        _oneMinusBeta1.Dispose();
        _beta2Scalar.Dispose();
        _oneMinusBeta2.Dispose();
        _eps.Dispose();
        _decayFactor.Dispose();
    }
}
