using System.Diagnostics;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Readers;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Interests.Backends;
using Liber.Interests.Learning;
using Microsoft.Extensions.AI;

namespace Liber.Interests.Benchmarks;

/// <summary>Figures of the runner-overhead benchmark.</summary>
/// <param name="Partitions">Partitions learned.</param>
/// <param name="Calls">LLM calls made.</param>
/// <param name="MaxInFlight">Requests in flight at most.</param>
/// <param name="Seconds">Wall time of the run (prompts, HTTP, validation, cache writes).</param>
/// <param name="CallsPerSecond">Calls per second.</param>
/// <param name="WithCache">Whether answers were written to a SQLite cache.</param>
/// <param name="Http">Whether calls went over HTTP to the stub (false: an in-process instant chat client, the runner alone).</param>
public sealed record RunnerFigures(int Partitions, long Calls, int MaxInFlight, double Seconds, double CallsPerSecond, bool WithCache, bool Http);

/// <summary>Figures of the template backend end to end over a data set.</summary>
/// <param name="Dataset">Data set kind and folder.</param>
/// <param name="Events">Events.</param>
/// <param name="Partitions">Partitions learned.</param>
/// <param name="LoadSeconds">Reading the data set and building streams.</param>
/// <param name="PartitionSeconds">Item features (token counts) and partitioning.</param>
/// <param name="LearnSeconds">Writing every summary and shift.</param>
/// <param name="TotalSeconds">All of it.</param>
public sealed record TemplateFigures(string Dataset, int Events, int Partitions, double LoadSeconds, double PartitionSeconds, double LearnSeconds, double TotalSeconds);

/// <summary>UIL benchmarks, callable from <c>liber bench llm</c>.</summary>
public static class RunnerBenchmark
{
    /// <summary>
    /// Runner overhead: learns every count-20 partition of a synthetic world (two-call mode) against a local
    /// stub that answers at once, through the real OpenAI client, Polly pipeline, validation and (optionally)
    /// the SQLite cache, and reports calls per second.
    /// </summary>
    public static async Task<RunnerFigures> RunAsync(int users = 400, int eventsPerUser = 100, int maxInFlight = 64, bool withCache = true, bool http = true, CancellationToken cancellationToken = default)
    {
        var world = SyntheticWorld.Generate(new SyntheticOptions { Users = users, MeanEvents = eventsPerUser });
        var streams = UserStreams.Build(world.Dataset);
        var set = PartitionSet.Build(streams, PartitionPolicies.Create(new PartitionOptions()), new PartitionCaps(), ItemFeatures.Build(world.Dataset, new Cl100kTokenCounter()));
        await using var stub = new OpenAiStubServer();
        using IChatClient client = http ? OpenAiBackend.Create(new OpenAiSettings { Endpoint = stub.Endpoint, Model = "stub" }) : new InstantChatClient();
        string dir = Directory.CreateTempSubdirectory("liber-bench-llm-").FullName;
        try
        {
            using var cache = withCache ? new ResponseCache(Path.Combine(dir, "cache.db")) : null;
            var learner = new InterestLearner(streams, InterestBackend.ForChat("openai", "stub", client),
                new LearnOptions { MaxInFlight = maxInFlight, Resilience = ResilienceOptions.Fast }, cache);
            // Warm-up on a few users (JIT, connections), not counted.
            await learner.RunAsync(Subset(set, Math.Min(8, users)), cancellationToken: cancellationToken).ConfigureAwait(false);
            var sw = Stopwatch.StartNew();
            LearnResult result = await learner.RunAsync(set, cancellationToken: cancellationToken).ConfigureAwait(false);
            double s = sw.Elapsed.TotalSeconds;
            // The warm-up's answers are cache hits here; count only real calls.
            return new RunnerFigures(set.Count, result.Report.LlmCalls, maxInFlight, Math.Round(s, 3), Math.Round(result.Report.LlmCalls / s, 1), withCache, http);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The template backend end to end over a data set folder (e.g. ml-latest-small with kind movielens-latest).</summary>
    public static async Task<TemplateFigures> TemplateAsync(string kind, string? path, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var sw = Stopwatch.StartNew();
        Dataset dataset = DatasetReaders.Load(kind, new DatasetRequest(path));
        var streams = UserStreams.Build(dataset);
        double load = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var tokens = new Cl100kTokenCounter();
        var set = PartitionSet.Build(streams, PartitionPolicies.Create(new PartitionOptions()), new PartitionCaps(), ItemFeatures.Build(dataset, tokens));
        double partition = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var learner = new InterestLearner(streams, InterestBackend.Template(), new LearnOptions { Domain = Prompts.PromptTemplates.DomainFor(kind) }, null, tokens);
        LearnResult result = await learner.RunAsync(set, cancellationToken: cancellationToken).ConfigureAwait(false);
        double learn = sw.Elapsed.TotalSeconds;
        return new TemplateFigures($"{kind} {path}", streams.EventCount, result.Report.Done, Math.Round(load, 3), Math.Round(partition, 3), Math.Round(learn, 3), Math.Round(total.Elapsed.TotalSeconds, 3));
    }

    /// <summary>Answers at once in process, like the stub's default answers, so that only the runner's own work is timed.</summary>
    private sealed class InstantChatClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var list = messages.ToList();
            var request = new StubRequest(0, default, list[0].Text, list[^1].Text, DateTime.UtcNow);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, OpenAiStubServer.DefaultContent(request)))
            {
                Usage = new UsageDetails { InputTokenCount = request.User.Length / 4, OutputTokenCount = 10 },
            });
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private static PartitionSet Subset(PartitionSet set, int users) =>
        PartitionSet.FromUsers(Enumerable.Range(0, set.UserCount).Select(u => u < users ? (IReadOnlyList<Partition>)set.Of(u).ToArray() : []).ToList(), set.CacheSizes, set.Policy);
}
