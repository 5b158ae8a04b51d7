using Liber.Knowledge.Cache;

namespace Liber.Knowledge.Tests;

public sealed class KnowledgeEncoderTests
{
    [Fact]
    public async Task Duplicates_are_encoded_once_and_rows_follow_input_order()
    {
        var (handle, raw) = Fakes.Handle(dimension: 8);
        using var knowledge = new KnowledgeEncoder(handle);
        string[] texts = ["b", "a", "b", "c", "a"];
        var r = await knowledge.EncodeAsync(texts);

        Assert.Equal(5, r.Accounting.Texts);
        Assert.Equal(3, r.Accounting.UniqueTexts);
        Assert.Equal(3, r.Accounting.Encoded);
        Assert.Equal(0, r.Accounting.CacheHits);
        Assert.Equal(3, raw.Seen.Count);
        Assert.Equal(5, r.Vectors.Count);
        Assert.Equal(8, r.Vectors.Dimension);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(CountingGenerator.VectorOf(texts[i], 8, string.Empty), r.Vectors.Row(i).ToArray());
        }
    }

    [Fact]
    public async Task Misses_are_sent_in_batches_of_the_configured_size()
    {
        var (handle, raw) = Fakes.Handle(maxBatch: 64);
        using var knowledge = new KnowledgeEncoder(handle, options: new KnowledgeEncoderOptions { BatchSize = 4 });
        var texts = Enumerable.Range(0, 10).Select(i => $"text number {i}").ToArray();
        var r = await knowledge.EncodeAsync(texts);

        Assert.Equal(3, r.Accounting.Batches);
        Assert.Equal(3, raw.Calls);
        Assert.Equal(10, r.Accounting.Chunks);
        Assert.Equal(3, r.Accounting.ModelCalls);
    }

    [Fact]
    public async Task Model_batch_limit_splits_a_large_batch()
    {
        var (handle, raw) = Fakes.Handle(maxBatch: 3);
        using var knowledge = new KnowledgeEncoder(handle, options: new KnowledgeEncoderOptions { BatchSize = 64 });
        var r = await knowledge.EncodeAsync(Enumerable.Range(0, 7).Select(i => $"t{i}").ToArray());

        Assert.Equal(1, r.Accounting.Batches);
        Assert.Equal(3, r.Accounting.ModelCalls);
        Assert.Equal(3, raw.Calls);
    }

    [Fact]
    public async Task Progress_reaches_the_number_of_distinct_texts()
    {
        var (handle, _) = Fakes.Handle();
        using var knowledge = new KnowledgeEncoder(handle, options: new KnowledgeEncoderOptions { BatchSize = 2 });
        var seen = new List<EncodeProgress>();
        await knowledge.EncodeAsync(["x", "y", "z", "x"], new SyncProgress(seen));

        Assert.Equal(new EncodeProgress(3, 3, 3), seen[^1]);
        Assert.Equal(0, seen[0].Done);
    }

    [Fact]
    public async Task Null_text_is_rejected_with_its_index()
    {
        var (handle, raw) = Fakes.Handle();
        using var knowledge = new KnowledgeEncoder(handle);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => knowledge.EncodeAsync(["ok", null!]));
        Assert.Contains("text 1 is null", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, raw.Calls);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\t ")]
    public async Task Empty_text_is_rejected_by_default(string empty)
    {
        var (handle, raw) = Fakes.Handle();
        using var knowledge = new KnowledgeEncoder(handle);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => knowledge.EncodeAsync(["ok", "fine", empty]));
        Assert.Contains("text 2 is empty", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, raw.Calls);
    }

    [Fact]
    public async Task Empty_text_gets_a_zero_vector_under_the_zero_policy_and_is_not_encoded()
    {
        var (handle, raw) = Fakes.Handle(dimension: 4);
        using var knowledge = new KnowledgeEncoder(handle, options: new KnowledgeEncoderOptions { EmptyTexts = EmptyTextPolicy.ZeroVector });
        var r = await knowledge.EncodeAsync(["", "a", " "]);

        Assert.Equal(2, r.Accounting.EmptyTexts);
        Assert.Equal(1, r.Accounting.Encoded);
        Assert.Equal(["a"], raw.Seen);
        Assert.Equal(new float[4], r.Vectors.Row(0).ToArray());
        Assert.Equal(new float[4], r.Vectors.Row(2).ToArray());
        Approx.Equal(1.0, Fakes.Norm(r.Vectors.Row(1)));
    }

    [Fact]
    public async Task Empty_input_gives_an_empty_matrix()
    {
        var (handle, raw) = Fakes.Handle(dimension: 4);
        using var knowledge = new KnowledgeEncoder(handle);
        var r = await knowledge.EncodeAsync([]);
        Assert.Equal(0, r.Vectors.Count);
        Assert.Equal(4, r.Vectors.Dimension);
        Assert.Equal(0, raw.Calls);
    }

    [Fact]
    public async Task Totals_add_up_over_calls()
    {
        var (handle, _) = Fakes.Handle();
        using var knowledge = new KnowledgeEncoder(handle);
        await knowledge.EncodeAsync(["a", "b"]);
        await knowledge.EncodeAsync(["b", "c", "c"]);
        Assert.Equal(5, knowledge.Totals.Texts);
        Assert.Equal(3, knowledge.Totals.Encoded);
        Assert.Equal(1, knowledge.Totals.CacheHits);
    }

    [Fact]
    public async Task Cancellation_stops_before_encoding()
    {
        var (handle, raw) = Fakes.Handle();
        using var knowledge = new KnowledgeEncoder(handle);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => knowledge.EncodeAsync(["a"], cancellationToken: cts.Token));
        Assert.Equal(0, raw.Calls);
    }

    private sealed class SyncProgress(List<EncodeProgress> into) : IProgress<EncodeProgress>
    {
        public void Report(EncodeProgress value) => into.Add(value);
    }
}
