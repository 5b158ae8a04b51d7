using Liber.Knowledge.Encoders;

namespace Liber.Knowledge.Tests;

public sealed class OpenAIEncoderTests
{
    private static OpenAIEncoderOptions Options(StubEmbeddingServer server, int maxBatch = 64, int? dimensions = 6) => new()
    {
        Endpoint = server.Endpoint,
        Model = "test-embed",
        Dimensions = dimensions,
        ApiKey = "sk-test-123",
        MaxRetries = 0,
        MaxBatchSize = maxBatch,
        Timeout = TimeSpan.FromSeconds(20),
    };

    [Fact]
    public async Task Sends_model_and_an_input_array_and_parses_the_vectors_in_order()
    {
        using var server = new StubEmbeddingServer(dimension: 6);
        using var knowledge = KnowledgeEncoder.Create(Options(server));
        var r = await knowledge.EncodeAsync(["first text", "second text"]);

        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/embeddings", request.Path);
        Assert.Equal("Bearer sk-test-123", request.Authorization);
        Assert.Equal("test-embed", request.Body.GetProperty("model").GetString());
        Assert.Equal(["first text", "second text"], request.Body.GetProperty("input").EnumerateArray().Select(e => e.GetString()).Order());
        Assert.Equal(6, request.Body.GetProperty("dimensions").GetInt32());

        Assert.Equal(6, r.Vectors.Dimension);
        Assert.Equal(CountingGenerator.VectorOf("first text", 6, "stub"), r.Vectors.Row(0).ToArray());
        Assert.Equal(CountingGenerator.VectorOf("second text", 6, "stub"), r.Vectors.Row(1).ToArray());
        Assert.Equal(14, r.Accounting.InputTokens);
        Assert.Contains("test-embed@http://127.0.0.1:", r.Accounting.Encoder, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-test", r.Accounting.Encoder, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-test", knowledge.Encoder.Options.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Float_array_responses_are_parsed_too()
    {
        using var server = new StubEmbeddingServer(dimension: 3);
        server.Respond = _ => (200, StubEmbeddingServer.Answer([[0.6f, 0.8f, 0f]], base64: false));
        using var handle = KnowledgeEncoders.Create(Options(server, dimensions: 3));
        var e = await handle.Generator.GenerateAsync(["x"]);
        Assert.Equal(new[] { 0.6f, 0.8f, 0f }, e[0].Vector.ToArray());
    }

    [Fact]
    public async Task Batches_are_split_to_the_server_limit()
    {
        using var server = new StubEmbeddingServer(dimension: 6);
        using var knowledge = KnowledgeEncoder.Create(Options(server, maxBatch: 2));
        var r = await knowledge.EncodeAsync(["a", "b", "c", "d", "e"]);

        Assert.Equal([2, 2, 1], server.Requests.Select(q => q.Body.GetProperty("input").GetArrayLength()));
        Assert.Equal(3, r.Accounting.ModelCalls);
        Assert.Equal(1, r.Accounting.Batches);
        Assert.Equal(CountingGenerator.VectorOf("e", 6, "stub"), r.Vectors.Row(4).ToArray());
    }

    [Fact]
    public async Task A_server_error_is_an_encoder_exception_with_status_and_endpoint()
    {
        using var server = new StubEmbeddingServer();
        server.Respond = _ => (500, """{"error":{"message":"model overloaded"}}""");
        using var knowledge = KnowledgeEncoder.Create(Options(server));
        var e = await Assert.ThrowsAsync<EncoderException>(() => knowledge.EncodeAsync(["x"]));
        Assert.Contains("HTTP 500", e.Message, StringComparison.Ordinal);
        Assert.Contains(server.Endpoint.AbsoluteUri, e.Message, StringComparison.Ordinal);
        Assert.Contains("model overloaded", e.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_transient_server_error_is_retried()
    {
        using var server = new StubEmbeddingServer(dimension: 6);
        int calls = 0;
        server.Respond = _ => Interlocked.Increment(ref calls) == 1 ? (503, """{"error":{"message":"busy"}}""") : null;
        using var handle = KnowledgeEncoders.Create(Options(server) with { MaxRetries = 1 });
        var e = await handle.Generator.GenerateAsync(["x"]);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(CountingGenerator.VectorOf("x", 6, "stub"), e[0].Vector.ToArray());
    }

    [Fact]
    public async Task A_malformed_response_is_an_encoder_exception()
    {
        using var server = new StubEmbeddingServer();
        server.Respond = _ => (200, """{"object":"list","data":[{"object":"embedding","index":0,"embedding":"%%%not base64"}]""");
        using var handle = KnowledgeEncoders.Create(Options(server));
        var e = await Assert.ThrowsAsync<EncoderException>(() => handle.Generator.GenerateAsync(["x"]));
        Assert.Contains("malformed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_response_with_too_few_vectors_is_refused()
    {
        using var server = new StubEmbeddingServer();
        server.Respond = _ => (200, StubEmbeddingServer.Answer([new float[6]], base64: false));
        using var handle = KnowledgeEncoders.Create(Options(server));
        var e = await Assert.ThrowsAsync<EncoderException>(() => handle.Generator.GenerateAsync(["x", "y"]));
        Assert.Contains("1 embeddings for 2 inputs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_vector_of_the_wrong_dimension_is_refused()
    {
        using var server = new StubEmbeddingServer();
        server.Respond = _ => (200, StubEmbeddingServer.Answer([[1f, 0f]], base64: false));
        using var handle = KnowledgeEncoders.Create(Options(server, dimensions: 6));
        var e = await Assert.ThrowsAsync<EncoderException>(() => handle.Generator.GenerateAsync(["x"]));
        Assert.Contains("2-d vector", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_configured_dimensions_one_probe_finds_them()
    {
        using var server = new StubEmbeddingServer(dimension: 5);
        using var handle = KnowledgeEncoders.Create(Options(server, dimensions: null));
        Assert.Null(handle.KnownInfo);
        var info = await handle.GetInfoAsync();
        Assert.Equal(5, info.Dimension);
        await handle.GetInfoAsync();
        Assert.Single(server.Requests);
        Assert.False(server.Requests[0].Body.TryGetProperty("dimensions", out _));
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_an_encoder_exception()
    {
        Uri endpoint;
        using (var server = new StubEmbeddingServer())
        {
            endpoint = server.Endpoint;
        }

        using var handle = KnowledgeEncoders.Create(new OpenAIEncoderOptions { Endpoint = endpoint, MaxRetries = 0, Dimensions = 6, ApiKey = "k" });
        var e = await Assert.ThrowsAsync<EncoderException>(() => handle.Generator.GenerateAsync(["x"]));
        Assert.Contains("could not be reached", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        Assert.Throws<ArgumentException>(() => KnowledgeEncoders.Create(new OpenAIEncoderOptions { Endpoint = new Uri("ftp://x/v1") }));
        Assert.Throws<ArgumentException>(() => KnowledgeEncoders.Create(new OpenAIEncoderOptions { Model = " " }));
        Assert.Throws<ArgumentException>(() => KnowledgeEncoders.Create(new MiniLmOptions { MaxBatchSize = 0 }));
        Assert.Throws<ArgumentException>(() => KnowledgeEncoders.Create(new MiniLmOptions { WindowTokens = 1024 }));
        var e = Assert.Throws<ArgumentException>(() => KnowledgeEncoders.Create("bert-huge"));
        Assert.Contains("minilm, arctic-xs, openai", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_key_wins_over_the_environment()
    {
        Assert.Equal("mine", new OpenAIEncoderOptions { ApiKey = "mine" }.ResolveApiKey());
    }
}
