using Liber.Knowledge.Encoders;

namespace Liber.Knowledge.Tests;

public sealed class ArcticXsTests
{
    [Fact]
    public async Task ArcticXs_gives_384_dimensional_unit_vectors_with_a_512_token_window()
    {
        using var knowledge = KnowledgeEncoder.Create(new ArcticXsOptions { Threads = 2 });
        var info = knowledge.Encoder.KnownInfo!;
        Assert.Equal("arctic-xs", info.Name);
        Assert.Equal(384, info.Dimension);
        Assert.Equal(512, info.WindowTokens);

        var r = await knowledge.EncodeAsync(["space opera fan", "enjoys films about astronauts and galaxies", "a recipe for lentil soup"]);
        Assert.Equal(384, r.Vectors.Dimension);
        Approx.Equal(1.0, Fakes.Norm(r.Vectors.Row(0)));
        Assert.True(Fakes.Dot(r.Vectors.Row(0), r.Vectors.Row(1)) > Fakes.Dot(r.Vectors.Row(0), r.Vectors.Row(2)));
    }
}
