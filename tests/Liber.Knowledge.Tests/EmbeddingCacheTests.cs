using Liber.Knowledge.Cache;

namespace Liber.Knowledge.Tests;

public sealed class EmbeddingCacheTests
{
    [Fact]
    public async Task Second_run_encodes_nothing_and_the_cache_survives_reopening()
    {
        using var dir = new TempDir();
        string path = dir.File("cache.db");
        string[] texts = ["likes slow-burning dramas", "switched to sci-fi", "likes slow-burning dramas"];

        var (h1, raw1) = Fakes.Handle();
        float[] first;
        using (var cache = EmbeddingCache.Open(path))
        using (var knowledge = new KnowledgeEncoder(h1, cache))
        {
            var r = await knowledge.EncodeAsync(texts);
            Assert.Equal(2, r.Accounting.Encoded);
            Assert.Equal(2, raw1.Seen.Count);
            first = r.Vectors.Data.ToArray();
        }

        var (h2, raw2) = Fakes.Handle();
        using (var cache = EmbeddingCache.Open(path))
        using (var knowledge = new KnowledgeEncoder(h2, cache))
        {
            var r = await knowledge.EncodeAsync(texts);
            Assert.Equal(0, r.Accounting.Encoded);
            Assert.Equal(2, r.Accounting.CacheHits);
            Assert.Equal(0, raw2.Calls);
            Assert.Equal(first, r.Vectors.Data.ToArray());
            Assert.Equal(2, cache.Count(h2.KnownInfo!));
        }
    }

    [Fact]
    public async Task Only_new_texts_are_encoded_on_a_later_run()
    {
        using var dir = new TempDir();
        var (h1, _) = Fakes.Handle();
        using (var knowledge = new KnowledgeEncoder(h1, EmbeddingCache.Open(dir.File("c.db"))))
        {
            await knowledge.EncodeAsync(["a", "b"]);
        }

        var (h2, raw2) = Fakes.Handle();
        using var cache = EmbeddingCache.Open(dir.File("c.db"));
        using var k2 = new KnowledgeEncoder(h2, cache);
        var r = await k2.EncodeAsync(["b", "c", "a", "d"]);
        Assert.Equal(["c", "d"], raw2.Seen);
        Assert.Equal(2, r.Accounting.CacheHits);
    }

    [Fact]
    public async Task The_key_separates_encoders()
    {
        using var dir = new TempDir();
        using var cache = EmbeddingCache.Open(dir.File("c.db"));
        var (a, rawA) = Fakes.Handle(name: "fake", salt: "A");
        var (b, rawB) = Fakes.Handle(name: "fake", salt: "B");
        Assert.NotEqual(a.KnownInfo!.Id, b.KnownInfo!.Id);

        using var ka = new KnowledgeEncoder(a, cache);
        using var kb = new KnowledgeEncoder(b, cache);
        var ra = await ka.EncodeAsync(["same text"]);
        var rb = await kb.EncodeAsync(["same text"]);

        Assert.Equal(1, rawA.Calls);
        Assert.Equal(1, rawB.Calls);
        Assert.Equal(0, rb.Accounting.CacheHits);
        Assert.NotEqual(ra.Vectors.Row(0).ToArray(), rb.Vectors.Row(0).ToArray());
        Assert.Equal(1, cache.Count(a.KnownInfo));
        Assert.Equal(1, cache.Count(b.KnownInfo));
    }

    [Fact]
    public void Text_hash_is_sha256_of_utf8()
    {
        // SHA-256("abc"), FIPS 180-2 test vector.
        Assert.Equal("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", Convert.ToHexString(EmbeddingCache.HashText("abc")));
        Assert.NotEqual(EmbeddingCache.HashText("abc"), EmbeddingCache.HashText("abc "));
    }

    [Fact]
    public void Vectors_are_stored_as_little_endian_float32()
    {
        byte[] blob = EmbeddingCache.ToBlob([1.0f, -2.5f]);
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0 }, blob);
        Assert.Equal(new[] { 1.0f, -2.5f }, EmbeddingCache.FromBlob(blob));
    }

    [Fact]
    public void A_file_that_is_not_a_cache_is_refused_with_its_path()
    {
        using var dir = new TempDir();
        string path = dir.File("not-a-cache.db");
        File.WriteAllText(path, "this is certainly not an SQLite database, it is a plain text file of some length....");
        var e = Assert.Throws<InvalidDataException>(() => EmbeddingCache.Open(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_refuses_a_vector_of_the_wrong_dimension_and_lookup_returns_what_was_stored()
    {
        using var cache = EmbeddingCache.InMemory();
        var info = new EncoderInfo("fake", "m", 2, "v", 64);
        byte[] h = EmbeddingCache.HashText("x");
        cache.Store(info, [h], [new float[] { 0.6f, 0.8f }]);
        var wider = info with { Dimension = 3 };
        Assert.Throws<ArgumentException>(() => cache.Store(wider, [h], [new float[] { 1, 0 }]));

        var found = new float[1][];
        Assert.Equal(1, cache.Lookup(info, [h], found));
        Assert.Equal(new[] { 0.6f, 0.8f }, found[0]);
    }
}
