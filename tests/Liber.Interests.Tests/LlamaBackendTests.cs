using Liber.Core.Partitioning;
using Liber.Interests.Backends;
using Liber.Interests.Learning;
using Microsoft.Extensions.AI;

namespace Liber.Interests.Tests;

/// <summary>Finds ../shared/models/stories260K.gguf above the test binaries.</summary>
public static class SharedModel
{
    public static string? Stories260K { get; } = Find();

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "models", "stories260K.gguf");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A fact skipped, with the reason, when the shared GGUF model is absent.</summary>
public sealed class ModelFactAttribute : FactAttribute
{
    public ModelFactAttribute()
    {
        if (SharedModel.Stories260K is null)
        {
            Skip = $"../shared/models/stories260K.gguf not found above {AppContext.BaseDirectory}: llama backend test skipped";
        }
    }
}

[Collection("llama")]
public sealed class LlamaBackendTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-llama-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [ModelFact]
    public async Task Stories260K_loads_generates_greedily_and_disposes()
    {
        using (var client = LlamaChatClient.Load(new LlamaSettings { ModelPath = SharedModel.Stories260K!, ContextSize = 512 }))
        {
            Assert.False(client.HasChatTemplate);
            ChatResponse r = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], new ChatOptions { Temperature = 0, MaxOutputTokens = 12, Seed = 1 });
            Assert.StartsWith(", there was a little girl named Lily.", r.Text, StringComparison.Ordinal);
            Assert.Equal("stories260K.gguf", client.GetService<ChatClientMetadata>()?.DefaultModelId);
        }

        // Loading again after disposal works: the weights were released cleanly.
        using var again = LlamaChatClient.Load(new LlamaSettings { ModelPath = SharedModel.Stories260K!, ContextSize = 512 });
        ChatResponse r2 = await again.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });
        Assert.StartsWith(", there was a little girl named Lily.", r2.Text, StringComparison.Ordinal);
    }

    [ModelFact]
    public async Task The_learner_runs_a_partition_through_the_llama_backend_and_caches_it()
    {
        var w = World.Shared;
        // Three-event partitions keep the prompts short: the 260K-parameter model is slow on long contexts.
        var small = PartitionSet.Build(w.Streams, PartitionPolicies.Create(new PartitionOptions { K = 3 }), new PartitionCaps(), w.Features);
        var set = PartitionSet.FromUsers([small.Of(0)[..1].ToArray()], [0], "count");
        using var client = LlamaChatClient.Load(new LlamaSettings { ModelPath = SharedModel.Stories260K!, ContextSize = 2048 });
        using var cache = new ResponseCache(Path.Combine(_dir, "llama.db"));
        var options = new LearnOptions { MaxInFlight = 1, Sampling = new SamplingOptions { MaxOutputTokens = 24 }, Resilience = ResilienceOptions.Fast with { RequestTimeout = TimeSpan.FromSeconds(60) } };
        var learner = new InterestLearner(w.Streams, InterestBackend.ForChat("llama", client.ModelName, client), options, cache);
        LearnResult result = await learner.RunAsync(set);
        Assert.True(result.Report.Done == 1, string.Join("; ", result.Report.FailuresByReason) + " | " + string.Join("; ", result.Report.AttemptErrors) + " | " + string.Join("; ", result.Texts.All.Select(t => t.Reason)));
        Assert.Equal(1, result.Report.LlmCalls);
        Assert.All(result.Texts.All, t => Assert.Equal("llama", t.Backend));
        Assert.False(string.IsNullOrWhiteSpace(result.Texts.Summary(0, 0)));
        Assert.True(result.Report.CompletionTokens > 0);
        LearnResult again = await learner.RunAsync(set);
        Assert.Equal(0, again.Report.LlmCalls);
        Assert.Equal(result.Texts.All.Select(t => t.Summary), again.Texts.All.Select(t => t.Summary));
    }

    [Fact]
    public void Missing_and_corrupt_model_files_give_clear_errors()
    {
        string missing = Path.Combine(_dir, "absent.gguf");
        var e1 = Assert.Throws<FileNotFoundException>(() => LlamaChatClient.Load(new LlamaSettings { ModelPath = missing }));
        Assert.Contains("absent.gguf", e1.Message, StringComparison.Ordinal);

        string text = Path.Combine(_dir, "notes.gguf");
        File.WriteAllText(text, "this is not a model");
        var e2 = Assert.Throws<ArgumentException>(() => LlamaChatClient.Load(new LlamaSettings { ModelPath = text }));
        Assert.Contains("not a GGUF model file", e2.Message, StringComparison.Ordinal);
    }

    [ModelFact]
    public void A_truncated_model_file_gives_a_clear_error()
    {
        string cut = Path.Combine(_dir, "cut.gguf");
        byte[] bytes = File.ReadAllBytes(SharedModel.Stories260K!);
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 3)]);
        var e = Assert.Throws<ArgumentException>(() => LlamaChatClient.Load(new LlamaSettings { ModelPath = cut }));
        Assert.Contains("cut.gguf", e.Message, StringComparison.Ordinal);
        Assert.Contains("could not be loaded", e.Message, StringComparison.Ordinal);
    }
}
