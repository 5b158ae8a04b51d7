using System.Runtime.CompilerServices;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Interests;
using Liber.Interests.Learning;
using Liber.Knowledge;
using Microsoft.Extensions.AI;

namespace Liber.Pipeline.Tests;

/// <summary>The one learn-and-encode step: offline a missing text is a zero vector, online it stops the user.</summary>
public sealed class KnowledgeStepTests
{
    /// <summary>A chat client that answers every call with a plain summary except the calls whose 1-based number is in <paramref name="failing"/>.</summary>
    private sealed class FailingClient(params int[] failing) : IChatClient
    {
        private int _calls;

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            int call = Interlocked.Increment(ref _calls);
            return failing.Contains(call)
                ? throw new HttpRequestException("the stub refuses this call")
                : Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"The user mostly enjoyed dramas and comedies in this period (answer {call}).")));
        }

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.CompletedTask;
            yield break;
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private static (UserStreams Streams, PartitionSet Set) OneUser()
    {
        var world = SyntheticWorld.Generate(new SyntheticOptions { Seed = 3, Users = 1, Items = 60, MeanEvents = 40 });
        UserStreams streams = UserStreams.Build(world.Dataset);
        var features = ItemFeatures.Build(world.Dataset, new Cl100kTokenCounter());
        PartitionSet set = PartitionSet.Build(streams, PartitionPolicies.Create(new PartitionOptions { Policy = "count", K = 8 }), new PartitionCaps(), features);
        return (streams, set);
    }

    private static async Task<KnowledgeResult> Run(MissingTextPolicy policy)
    {
        (UserStreams streams, PartitionSet set) = OneUser();
        Assert.True(set.Of(0).Length >= 3, $"{set.Of(0).Length} partitions");
        // Two-call cascade, one request at a time: call 1 = summary of partition 0, call 2 = summary of partition 1 (refused).
        var learn = new LearnOptions { Domain = "movies", MaxInFlight = 1, Resilience = ResilienceOptions.Fast with { MaxRetries = 0 } };
        using var client = new FailingClient(2);
        using KnowledgeEncoder encoder = KnowledgeEncoder.Create("minilm", null, new KnowledgeEncoderOptions { EmptyTexts = EmptyTextPolicy.ZeroVector });
        var step = new KnowledgeStep(InterestBackend.ForChat("openai", "stub", client), learn, null, encoder);
        return await step.RunAsync(streams, set, [.. set.Of(0).ToArray().Select(p => (p.User, p.Number))], policy);
    }

    [Fact]
    public async Task Offline_a_partition_without_text_gets_a_zero_summary_vector_and_the_rest_go_on()
    {
        KnowledgeResult r = await Run(MissingTextPolicy.ZeroVector);
        Assert.Equal(r.Learned.Report.Done + r.Learned.Report.Failures + r.Learned.Report.Skipped, r.Partitions.Count);
        PartitionKnowledge first = r.Partitions[0], failed = r.Partitions[1];
        Assert.NotNull(first.Summary);
        Assert.Contains(first.SummaryVector!, v => v != 0);
        Assert.All(first.ShiftVector!, v => Assert.Equal(0f, v)); // a user's first partition has no shift
        Assert.Null(failed.Summary);
        Assert.NotNull(failed.Error);
        Assert.All(failed.SummaryVector!, v => Assert.Equal(0f, v));
        Assert.All(r.Partitions, p => Assert.Equal(r.Dimension, p.SummaryVector!.Length));
    }

    [Fact]
    public async Task Online_a_partition_without_text_fails_and_the_users_later_partitions_wait()
    {
        KnowledgeResult r = await Run(MissingTextPolicy.StopUser);
        Assert.Equal(2, r.Partitions.Count);
        Assert.NotNull(r.Partitions[0].SummaryVector);
        Assert.Equal(1, r.Partitions[1].Number);
        Assert.Null(r.Partitions[1].SummaryVector);
        Assert.NotNull(r.Partitions[1].Error);
    }
}
