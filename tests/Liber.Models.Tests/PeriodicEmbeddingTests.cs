using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Layers;
using Liber.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>
/// The periodic embeddings of the numeric groups (<see cref="PeriodicEmbedding"/>, <c>numeric: periodic</c>): the layer
/// gives a linear read-out shapes that raw values cannot (a positive control), a model with the option reads them, and
/// config files say what was trained.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class PeriodicEmbeddingTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private static readonly int[] Some = Enumerable.Range(0, 96).Select(i => i * 5 % Fixture.Samples.Count).ToArray();

    [Fact]
    public void Shapes_and_bad_input()
    {
        TorchRuntime.Configure(threads: 1, seed: 3);
        using var scope = NewDisposeScope();
        using var layer = new PeriodicEmbedding(5);
        Assert.Equal(5 * PeriodicEmbedding.Size, layer.OutputWidth);
        Tensor output = layer.call(rand(7, 5));
        Assert.Equal([7L, 5 * PeriodicEmbedding.Size], output.shape);
        Assert.True(output.ge(0).all().item<bool>()); // after the ReLU
        ArgumentException wrong = Assert.Throws<ArgumentException>(() => layer.call(rand(7, 4)));
        Assert.Contains("[B, 5]", wrong.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeriodicEmbedding(0));
    }

    /// <summary>
    /// A label that is 1 inside a band of one column (0.35 &lt; x &lt; 0.65) and 0 outside: no monotone function of the raw
    /// value ranks it well (a logistic regression on the raw columns stays near 0.5-0.6 AUC), a logistic regression on the
    /// periodic embeddings learns it (measured: 0.51 and 1.00).
    /// </summary>
    [Fact]
    public void A_linear_read_out_of_the_embeddings_learns_a_band_that_raw_values_cannot()
    {
        TorchRuntime.Configure(threads: 1, seed: 7);
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        Tensor x = rand([2000, 2], generator: generator);
        Tensor inBand = x[.., 0].gt(0.35).logical_and(x[.., 0].lt(0.65));
        Tensor y = inBand.to_type(ScalarType.Float32);

        double raw = Fit(nn.Sequential(("linear", nn.Linear(2, 1))), x, y);
        double periodic = Fit(nn.Sequential(("periodic", new PeriodicEmbedding(2)), ("linear", nn.Linear(2 * PeriodicEmbedding.Size, 1))), x, y);
        log.WriteLine($"band: raw AUC {raw:F4}, periodic AUC {periodic:F4}");
        Assert.True(raw < 0.65, $"raw values ranked the band with AUC {raw:F3}");
        Assert.True(periodic > 0.95, $"periodic embeddings ranked the band with AUC {periodic:F3}");
    }

    private static double Fit(Sequential model, Tensor x, Tensor y)
    {
        using var optimizer = optim.Adam(model.parameters(), lr: 0.03);
        for (int step = 0; step < 400; step++)
        {
            using var inner = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = nn.functional.binary_cross_entropy_with_logits(model.call(x).squeeze(-1), y);
            loss.backward();
            optimizer.step();
        }

        using var grad = no_grad();
        float[] scores = model.call(x).squeeze(-1).data<float>().ToArray();
        double auc = Metrics.Auc(scores, y.data<float>().ToArray());
        model.Dispose();
        return auc;
    }

    [Theory]
    [InlineData("din")]
    [InlineData("deepfm")]
    public void A_model_with_periodic_numeric_groups_reads_the_embeddings(string backbone)
    {
        TorchRuntime.Configure(threads: 1, seed: 5);
        var raw = new ModelConfig { Backbone = backbone, Options = new BackboneOptions { Stats = true, Recent = true, EmbeddingSize = 8, Hidden = [16] } };
        var periodic = raw with { Options = raw.Options with { Numeric = NumericEncoding.Periodic } };
        using var scope = NewDisposeScope();
        using var plain = new CtrModel(Fixture.Tables.Map, raw);
        using var model = new CtrModel(Fixture.Tables.Map, periodic);
        long Count(CtrModel m) => m.parameters().Sum(p => p.numel());
        int columns = Liber.Core.Streams.PointInTimeStats.Width + RecentWindow.Width;
        int k = PeriodicEmbedding.Frequencies, d = PeriodicEmbedding.Size;
        long layer = columns * (k + (2 * k * d) + d);
        Assert.Equal(Count(plain) + layer + (columns * d * 16), Count(model));

        model.eval();
        CtrBatch batch = Collator.For(model, Fixture.Samples, Fixture.Tables, null).Build(Some);
        using var grad = no_grad();
        float[] before = model.call(batch).data<float>().ToArray();
        Assert.All(before, s => Assert.True(float.IsFinite(s)));

        // Changing only the embeddings' frequencies changes the scores: the head reads them.
        Parameter frequencies = model.named_parameters().Single(p => p.name.EndsWith("numeric._frequencies", StringComparison.Ordinal)).parameter;
        frequencies.mul_(1.5);
        float[] after = model.call(batch).data<float>().ToArray();
        Assert.True(before.Zip(after).Max(p => Math.Abs(p.First - p.Second)) > 1e-4, "the scores did not move with the numeric embeddings");
    }

    [Fact]
    public void Config_files_leave_raw_out_and_read_periodic_back()
    {
        string raw = System.Text.Json.JsonSerializer.Serialize(new BackboneOptions());
        string periodic = System.Text.Json.JsonSerializer.Serialize(new BackboneOptions { Numeric = NumericEncoding.Periodic });
        Assert.DoesNotContain("\"numeric\"", raw, StringComparison.Ordinal);
        Assert.Contains("\"numeric\":\"Periodic\"", periodic, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(NumericEncoding.Periodic, System.Text.Json.JsonSerializer.Deserialize<BackboneOptions>(periodic)!.Numeric);
        Assert.Equal(NumericEncoding.Raw, System.Text.Json.JsonSerializer.Deserialize<BackboneOptions>(raw)!.Numeric);
        Assert.Contains("numeric", BackboneOptionSettings.Keys);
    }
}
