using Liber.Interests.Learning;

namespace Liber.Pipeline.Tests;

public sealed class LlmBackendTests
{
    private sealed class FakeChat : Microsoft.Extensions.AI.IChatClient
    {
        public Task<Microsoft.Extensions.AI.ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, Microsoft.Extensions.AI.ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("never called");

        public IAsyncEnumerable<Microsoft.Extensions.AI.ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, Microsoft.Extensions.AI.ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("never called");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public void A_local_llama_model_serves_one_request_at_a_time_whatever_was_asked()
    {
        var learn = new LearnOptions { MaxInFlight = 16 };
        Assert.Equal(1, LlmBackend.Limit("llama", learn).MaxInFlight);
        Assert.Equal(16, LlmBackend.Limit("openai", learn).MaxInFlight);
        Assert.Equal(16, LlmBackend.Limit("template", learn).MaxInFlight);
    }

    [Fact]
    public void The_offline_chain_applies_the_backends_rules()
    {
        using var client = new FakeChat();
        var backend = new LlmBackend(InterestBackend.ForChat("llama", "tiny", client), null);
        using var source = LiberVectorSource.For(new LiberPipelineOptions { Learn = new LearnOptions { MaxInFlight = 8 } }, backend);
        Assert.Contains("backend=?", source.Name, StringComparison.Ordinal);
        Assert.Equal(1, source.Options.Learn.MaxInFlight);
    }

    [Theory]
    [InlineData("openai", null, "m", "--backend openai needs --endpoint URL and --model NAME")]
    [InlineData("openai", "http://127.0.0.1:8000/v1", null, "--backend openai needs --model NAME")]
    [InlineData("llama", null, null, "--backend llama needs --gguf FILE")]
    [InlineData("gpt", null, null, "unknown backend 'gpt': template, openai or llama")]
    public void Missing_settings_are_one_line_errors(string kind, string? endpoint, string? model, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => LlmBackend.Create(kind, endpoint, model, null, null, 1, TimeSpan.FromSeconds(5)));
        Assert.Equal(message, e.Message);
    }
}
