using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

[Collection(TorchCollection.Name)]
public sealed class TorchLoadAndTrainTests
{
    [Fact]
    public void Small_model_trains_and_loss_decreases()
    {
        TorchRuntime.Configure(threads: 1, seed: 7);
        using var scope = NewDisposeScope();
        // A separable binary task: label = 1 when x0 + x1 > 0.
        Tensor x = randn(256, 8);
        Tensor y = (x[.., 0] + x[.., 1] > 0).to_type(ScalarType.Float32).unsqueeze(1);
        var model = nn.Sequential(("l1", nn.Linear(8, 16)), ("relu", nn.ReLU()), ("l2", nn.Linear(16, 1)));
        var optimizer = optim.AdamW(model.parameters(), lr: 0.05);
        var lossFn = nn.BCEWithLogitsLoss();
        var losses = new List<float>();
        for (int step = 0; step < 30; step++)
        {
            optimizer.zero_grad();
            Tensor loss = lossFn.call(model.call(x), y);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        Assert.True(losses[^1] < losses[0] * 0.5f, $"loss went from {losses[0]} to {losses[^1]}");
        Assert.All(losses, l => Assert.True(float.IsFinite(l)));
    }

    [Fact]
    public void One_thread_training_is_bit_reproducible()
    {
        Assert.Equal(Train(), Train());

        static float Train()
        {
            TorchRuntime.Configure(threads: 1, seed: 11);
            using var scope = NewDisposeScope();
            Tensor x = randn(64, 4);
            Tensor y = randn(64, 1);
            var model = nn.Linear(4, 1);
            var optimizer = optim.AdamW(model.parameters(), lr: 0.01);
            float last = 0;
            for (int i = 0; i < 5; i++)
            {
                optimizer.zero_grad();
                Tensor loss = nn.functional.mse_loss(model.call(x), y);
                loss.backward();
                optimizer.step();
                last = loss.item<float>();
            }

            return last;
        }
    }

    [Fact]
    public void TorchSharp_version_is_reported()
    {
        Assert.StartsWith("0.107", TorchRuntime.TorchSharpVersion, StringComparison.Ordinal);
    }
}
