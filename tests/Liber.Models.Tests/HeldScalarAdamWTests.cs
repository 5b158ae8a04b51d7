using Liber.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>
/// The project's AdamW step (held scalars) against TorchSharp's own <c>torch.optim.AdamW</c>: the same updates,
/// step by step, so runs made before and after the switch agree.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class HeldScalarAdamWTests
{
    /// <summary>Two copies of one small network, their parameters equal at the start.</summary>
    private static (nn.Module<Tensor, Tensor> A, nn.Module<Tensor, Tensor> B) Twins()
    {
        TorchRuntime.Configure(threads: 1, seed: 11);
        var a = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 1));
        var b = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 1));
        using (no_grad())
        {
            foreach (var (pa, pb) in a.parameters().Zip(b.parameters())) pb.copy_(pa);
        }

        return (a, b);
    }

    private static void Backward(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        Tensor loss = nn.functional.binary_cross_entropy_with_logits(model.forward(x).squeeze(1), y);
        loss.backward();
    }

    private static float MaxDifference(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b)
    {
        float max = 0;
        foreach (var (pa, pb) in a.parameters().Zip(b.parameters()))
        {
            using Tensor d = (pa - pb).abs().max();
            max = Math.Max(max, d.item<float>());
        }

        return max;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    public void Updates_equal_TorchSharps_AdamW_step_by_step(double weightDecay)
    {
        (var a, var b) = Twins();
        using var theirs = optim.AdamW(a.parameters(), lr: 0.01, weight_decay: weightDecay);
        using var ours = new HeldScalarAdamW(b.parameters(), lr: 0.01, weightDecay: weightDecay);
        var generator = new Random(5);
        for (int step = 0; step < 25; step++)
        {
            float[] xs = Enumerable.Range(0, 32 * 6).Select(_ => (float)(generator.NextDouble() * 2 - 1)).ToArray();
            float[] ys = Enumerable.Range(0, 32).Select(_ => generator.NextDouble() < 0.4 ? 1f : 0f).ToArray();
            using Tensor x = tensor(xs, [32, 6]);
            using Tensor y = tensor(ys);
            theirs.zero_grad();
            ours.ZeroGrad();
            Backward(a, x, y);
            Backward(b, x, y);
            theirs.step();
            ours.Step();
            Assert.True(MaxDifference(a, b) < 1e-6f, $"step {step + 1}: parameters differ by {MaxDifference(a, b)}");
        }

        // The updates did something: the parameters moved away from their start.
        (var start, _) = Twins();
        float moved = MaxDifference(a, start);
        Assert.True(moved > 0.05f, $"the parameters moved only {moved}");
    }

    [Fact]
    public void A_parameter_without_gradient_is_left_alone_and_keeps_its_own_step_count()
    {
        TorchRuntime.Configure(threads: 1, seed: 3);
        var used = nn.Linear(3, 1);
        var unused = nn.Linear(3, 1);
        var all = used.parameters().Concat(unused.parameters()).ToArray();
        using var ours = new HeldScalarAdamW(all, lr: 0.1);
        float[] before = unused.weight!.data<float>().ToArray();
        using Tensor x = ones(4, 3);
        using Tensor y = zeros(4);
        for (int i = 0; i < 3; i++)
        {
            ours.ZeroGrad();
            Backward(used, x, y);
            ours.Step();
        }

        Assert.Equal(before, unused.weight!.data<float>().ToArray());
        // Adam's first step moves each weight by the learning rate (bias-corrected moments of one gradient).
        TorchRuntime.Configure(threads: 1, seed: 3);
        var fresh = nn.Linear(3, 1);
        using var once = new HeldScalarAdamW(fresh.parameters(), lr: 0.1);
        float[] start = fresh.weight!.data<float>().ToArray();
        Backward(fresh, x, y);
        once.Step();
        float[] after = fresh.weight!.data<float>().ToArray();
        for (int i = 0; i < start.Length; i++) Assert.Equal(0.1, Math.Abs(after[i] - start[i]), 4);
    }

    [Fact]
    public void Bad_settings_are_refused_with_the_value()
    {
        var layer = nn.Linear(2, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new HeldScalarAdamW(layer.parameters(), lr: 0));
        Assert.Contains("learning rate", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HeldScalarAdamW(layer.parameters(), beta1: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HeldScalarAdamW(layer.parameters(), weightDecay: -0.1));
        var disposed = new HeldScalarAdamW(layer.parameters());
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => disposed.Step());
    }
}
