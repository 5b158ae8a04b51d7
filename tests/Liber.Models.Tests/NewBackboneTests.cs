using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>Focused checks of DCNv2's cross network, AutoInt's interacting layer, the AUGRU cell and DIEN's auxiliary loss.</summary>
[Collection(TorchCollection.Name)]
public sealed class NewBackboneTests
{
    private static void Set(Tensor parameter, float[] values, params long[] shape)
    {
        using var grad = no_grad();
        using var t = tensor(values).reshape(shape);
        parameter.copy_(t);
    }

    private static float[] Row(Tensor t, int row) => t[row].data<float>().ToArray();

    [Fact]
    public void Cross_layer_matches_the_hand_computed_value()
    {
        using var net = new CrossNetwork(width: 2, layers: 1);
        var layer = (Linear)net[0];
        Set(layer.weight!, [1, 2, 3, 4], 2, 2);
        Set(layer.bias!, [0.5f, -1], 2);
        using var x0 = tensor(new float[] { 1, 2 }).reshape(1, 2);
        using Tensor y = net.call(x0);
        // W x0 + b = (1 + 4 + 0.5, 3 + 8 - 1) = (5.5, 10); x1 = x0 * (5.5, 10) + x0 = (6.5, 22).
        Approx.Equal(new[] { 6.5f, 22f }, Row(y, 0));
    }

    [Fact]
    public void Stacked_cross_layers_match_a_scalar_reference()
    {
        TorchRuntime.Configure(threads: 1, seed: 4);
        const int D = 3;
        using var net = new CrossNetwork(width: D, layers: 2);
        using var x0 = randn(4, D);
        using Tensor y = net.call(x0);
        for (int row = 0; row < 4; row++)
        {
            float[] input = Row(x0, row);
            float[] x = (float[])input.Clone();
            for (int l = 0; l < 2; l++)
            {
                var layer = (Linear)net[l];
                float[] w = layer.weight!.data<float>().ToArray(), b = layer.bias!.data<float>().ToArray();
                var next = new float[D];
                for (int i = 0; i < D; i++)
                {
                    float s = b[i];
                    for (int j = 0; j < D; j++)
                    {
                        s += w[i * D + j] * x[j];
                    }

                    next[i] = input[i] * s + x[i];
                }

                x = next;
            }

            float[] actual = Row(y, row);
            for (int i = 0; i < D; i++)
            {
                Approx.Equal(x[i], actual[i]);
            }
        }
    }

    [Fact]
    public void Low_rank_cross_layer_equals_full_rank_with_the_product_weight()
    {
        TorchRuntime.Configure(threads: 1, seed: 5);
        using var low = new CrossNetwork(width: 4, layers: 1, rank: 1);
        using var full = new CrossNetwork(width: 4, layers: 1);
        var seq = (Sequential)low[0];
        var v = (Linear)seq[0];
        var u = (Linear)seq[1];
        Assert.Equal(new long[] { 1, 4 }, v.weight!.shape);
        Assert.Null(v.bias);
        using (no_grad())
        {
            using Tensor product = u.weight!.matmul(v.weight!);                 // [4, 1] x [1, 4] -> [4, 4]
            ((Linear)full[0]).weight!.copy_(product);
            ((Linear)full[0]).bias!.copy_(u.bias!);
        }

        using var x0 = randn(5, 4);
        using Tensor a = low.call(x0), b = full.call(x0);
        Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-6));
        Assert.False(a.allclose(x0, rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void Interacting_layer_is_equivariant_to_field_order_and_exact_on_one_field()
    {
        TorchRuntime.Configure(threads: 1, seed: 6);
        using var layer = new InteractingLayer(input: 4, heads: 2, size: 3);
        using var x = randn(2, 5, 4);
        using Tensor y = layer.call(x);
        Assert.Equal(new long[] { 2, 5, 6 }, y.shape);
        using var perm = tensor(new long[] { 3, 0, 4, 1, 2 });
        using Tensor permuted = layer.call(x.index_select(1, perm));
        using Tensor expected = y.index_select(1, perm);
        Assert.True(permuted.allclose(expected, rtol: 1e-5, atol: 1e-6));

        // One field attends only to itself (weight 1): y = ReLU(W_v x + W_res x).
        using var one = x[.., ..1];
        using Tensor single = layer.call(one);
        var p = layer.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        using Tensor manual = nn.functional.relu(one.matmul(p["_value.weight"].t()) + one.matmul(p["_residual.weight"].t()));
        Assert.True(single.allclose(manual, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Augru_with_zero_attention_keeps_the_initial_state()
    {
        TorchRuntime.Configure(threads: 1, seed: 7);
        using var cell = new Augru(input: 3, hidden: 4);
        using var inputs = randn(2, 5, 3);
        using var attention = zeros(2, 5);
        using var mask = ones(2, 5, dtype: ScalarType.Bool);
        using var initial = randn(2, 4);
        using Tensor h = cell.Run(inputs, attention, mask, initial);
        Approx.Equal(initial.data<float>().ToArray(), h.data<float>().ToArray());

        // Non-zero attention does move the state (the check above can fail).
        using var some = full(2, 5, 0.5f);
        using Tensor moved = cell.Run(inputs, some, mask, initial);
        Assert.False(moved.allclose(initial, rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void Augru_ignores_padded_steps()
    {
        TorchRuntime.Configure(threads: 1, seed: 8);
        using var cell = new Augru(input: 3, hidden: 4);
        using var inputs = randn(1, 5, 3);
        using var attention = rand(1, 5);
        using var mask = tensor(new[] { true, true, false, false, false }).reshape(1, 5);
        using Tensor padded = cell.call(inputs, attention, mask);
        using Tensor cut = cell.call(inputs[.., ..2], attention[.., ..2], ones(1, 2, dtype: ScalarType.Bool));
        Approx.Equal(cut.data<float>().ToArray(), padded.data<float>().ToArray()); // other lengths, other kernels: equal to a few ULPs, not bit for bit (seen on AMD)
    }

    [Fact]
    public void Augru_with_unit_attention_is_a_gru()
    {
        TorchRuntime.Configure(threads: 1, seed: 9);
        const int H = 4;
        using var cell = new Augru(input: 3, hidden: H);
        using GRU gru = nn.GRU(3, H, batchFirst: true);
        var p = cell.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        var g = gru.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        using (no_grad())
        {
            // PyTorch's GRU keeps z h + (1 - z) n; AUGRU (the paper's form) keeps (1 - u) h + u n, so u = 1 - z = σ(-z's pre-activation).
            using var sign = cat([ones(H), -ones(H), ones(H)]);
            p["_input.weight"].copy_(g["weight_ih_l0"] * sign.unsqueeze(1));
            p["_input.bias"].copy_(g["bias_ih_l0"] * sign);
            p["_hidden.weight"].copy_(g["weight_hh_l0"] * sign.unsqueeze(1));
            p["_hidden.bias"].copy_(g["bias_hh_l0"] * sign);
        }

        using var inputs = randn(2, 6, 3);
        using Tensor h = cell.call(inputs, ones(2, 6), ones(2, 6, dtype: ScalarType.Bool));
        (Tensor output, Tensor last) = gru.call(inputs, null);
        using (output)
        using (last)
        {
            Assert.True(h.allclose(last[0], rtol: 1e-5, atol: 1e-6));
        }
    }

    private static CtrModel Dien(int? gruHidden = null)
    {
        TorchRuntime.Configure(threads: 1, seed: 11);
        return new CtrModel(Fixture.Tables.Map, new ModelConfig
        {
            Backbone = "dien",
            Options = new BackboneOptions { EmbeddingSize = 8, Hidden = [16], AttentionHidden = [8], GruHidden = gruHidden },
        });
    }

    [Theory]
    [InlineData(null)]
    [InlineData(12)]
    public void Dien_auxiliary_loss_is_positive_in_training_only_and_reaches_the_extractor(int? gruHidden)
    {
        using CtrModel model = Dien(gruHidden);
        var collator = Collator.For(model, Fixture.Samples, Fixture.Tables, null);
        int[] ordinals = Enumerable.Range(0, 48).Select(i => i * 5 % Fixture.Samples.TrainCount).ToArray();
        using var scope = NewDisposeScope();
        CtrBatch batch = collator.Build(ordinals);
        Assert.True(batch.HistoryMask.sum().item<long>() > batch.Size, "fixture must have histories");

        model.eval();
        Assert.Null(model.Run(batch).AuxiliaryLoss);

        model.train();
        Tensor? aux = model.Run(batch).AuxiliaryLoss;
        Assert.NotNull(aux);
        Assert.Equal(0, aux.dim());
        float value = aux.item<float>();
        Assert.True(float.IsFinite(value) && value > 0, $"auxiliary loss {value}");
        aux.backward();
        var grads = model.named_parameters().ToDictionary(n => n.name, n => n.parameter.grad);
        Tensor? gru = grads["_backbone._extractor.weight_ih_l0"];
        Assert.NotNull(gru);
        Assert.True(gru.abs().sum().item<float>() > 0);
        Assert.True(grads["_backbone._embeddings._items.weight"]!.abs().sum().item<float>() > 0);
        // The auxiliary loss alone does not touch the head or the interest evolution.
        Assert.True(grads["_output.weight"] is null || grads["_output.weight"]!.abs().sum().item<float>() == 0);
    }

    [Fact]
    public void Dien_negatives_are_reproducible_under_the_seed()
    {
        var values = new List<float>();
        for (int run = 0; run < 2; run++)
        {
            using CtrModel model = Dien();
            var collator = Collator.For(model, Fixture.Samples, Fixture.Tables, null);
            using var scope = NewDisposeScope();
            CtrBatch batch = collator.Build(Enumerable.Range(0, 32).ToArray());
            model.train();
            values.Add(model.Run(batch).AuxiliaryLoss!.item<float>());
        }

        Assert.Equal(values[0], values[1]);
    }

    [Fact]
    public void Dien_auxiliary_loss_falls_when_trained_on_it()
    {
        using CtrModel model = Dien();
        var collator = Collator.For(model, Fixture.Samples, Fixture.Tables, null);
        using var optimizer = optim.AdamW(model.parameters(), lr: 0.01);
        int[] ordinals = Enumerable.Range(0, 64).Select(i => i * 3 % Fixture.Samples.TrainCount).ToArray();
        model.train();
        var losses = new List<float>();
        for (int step = 0; step < 40; step++)
        {
            using var scope = NewDisposeScope();
            CtrBatch batch = collator.Build(ordinals);
            optimizer.zero_grad();
            Tensor aux = model.Run(batch).AuxiliaryLoss!;
            aux.backward();
            optimizer.step();
            losses.Add(aux.item<float>());
        }

        Assert.True(losses[^1] < losses[0] * 0.9f, "auxiliary loss over the steps: " + string.Join(" ", losses));
    }

    private static (TrainResult Result, float[] Test) Fit(double auxiliaryWeight, long seed)
    {
        TorchRuntime.Configure(threads: 1, seed: seed);
        var config = new ModelConfig { Backbone = "dien", Options = new BackboneOptions { EmbeddingSize = 8, Hidden = [16], AttentionHidden = [8], AuxiliaryWeight = auxiliaryWeight } };
        using var model = new CtrModel(Fixture.Tables.Map, config);
        var collator = Collator.For(model, Fixture.Samples, Fixture.Tables, null);
        TrainResult r = Trainer.Fit(model, collator, new TrainOptions { Epochs = 2, BatchSize = 64, LearningRate = 0.005, Seed = seed });
        return (r, Trainer.Predict(model, collator, Fixture.Samples.RangeOf(Core.Streams.Split.Test)));
    }

    [Fact]
    public void Dien_trains_bit_identically_and_the_trainer_adds_its_auxiliary_loss()
    {
        (TrainResult a, float[] pa) = Fit(1.0, 3);
        (TrainResult b, float[] pb) = Fit(1.0, 3);
        Assert.Equal(pa, pb);
        Assert.Equal(a.History.Select(h => h.TrainLoss), b.History.Select(h => h.TrainLoss));

        // Without the auxiliary term the first epoch's training loss is the CTR loss alone: lower by about the auxiliary loss (~2 ln 2 at the start).
        (TrainResult c, _) = Fit(0.0, 3);
        Assert.True(a.History[0].TrainLoss > c.History[0].TrainLoss + 0.5, $"with aux {a.History[0].TrainLoss}, without {c.History[0].TrainLoss}");
    }
}
