using Liber.Models.Layers;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

[Collection(TorchCollection.Name)]
public sealed class TargetAttentionTests
{
    [Fact]
    public void Split_first_layer_equals_the_mlp_over_the_concatenated_features()
    {
        TorchRuntime.Configure(1, 5);
        using var attention = new TargetAttention(16, [12, 6]);
        var p = attention.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.Equal(6, p.Count);                                           // two hidden layers and the score: state dict unchanged
        Assert.Contains("_mlp._layers.linear0.weight", p.Keys);

        using var scope = NewDisposeScope();
        Tensor query = randn(5, 16), keys = randn(5, 7, 16);
        Tensor mask = ones(5, 7, dtype: ScalarType.Bool);
        mask[0, 5] = false;
        mask[3, 0] = false;
        Tensor got = attention.Weights(query, keys, mask);

        // DIN's unit written out: MLP(ReLU) over [q ; k ; q - k ; q * k], a linear score, 0 on padding.
        Tensor q = query.unsqueeze(1).expand_as(keys);
        Tensor x = cat([q, keys, q - keys, q * keys], -1);
        x = nn.functional.relu(nn.functional.linear(x, p["_mlp._layers.linear0.weight"], p["_mlp._layers.linear0.bias"]));
        x = nn.functional.relu(nn.functional.linear(x, p["_mlp._layers.linear1.weight"], p["_mlp._layers.linear1.bias"]));
        Tensor expected = nn.functional.linear(x, p["_score.weight"], p["_score.bias"]).squeeze(-1).masked_fill(mask.logical_not(), 0.0);

        Assert.Equal(new long[] { 5, 7 }, got.shape);
        Assert.True(got.allclose(expected, rtol: 1e-5, atol: 1e-6), $"max difference {(got - expected).abs().max().item<float>()}");
        Assert.Equal(0f, got[0, 5].item<float>());
        Assert.True(expected.abs().sum().item<float>() > 0.1f, "the reference is not trivially zero");

        // Gradients reach every parameter of the first layer through the split.
        got.sum().backward();
        Assert.True(p["_mlp._layers.linear0.weight"].grad!.abs().sum().item<float>() > 0);
    }
}
