using System.Net;
using System.Text.Json;
using Liber.Core.Storage;
using Liber.Interests.Learning;
using Microsoft.Extensions.AI;

namespace Liber.Serve.Tests;

/// <summary>A backend that keeps failing: the worker records the error, retries with backoff a bounded number of times, then marks the partition failed; ingest is never held up.</summary>
[Collection(TorchCollection.Name)]
public sealed class NearlineFailureTests
{
    private sealed class BrokenChat : IChatClient
    {
        public int Calls;

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            throw new HttpRequestException("upstream is down", null, HttpStatusCode.ServiceUnavailable);
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Failed_jobs_are_retried_with_backoff_then_marked_failed_with_the_error()
    {
        var chat = new BrokenChat();
        await using ServiceHost host = await ServiceHost.StartAsync(d => ServiceHost.Options(d, worker: true) with
        {
            Backend = () => InterestBackend.ForChat("openai", "broken", chat),
            Learn = new LearnOptions { Domain = "generic", Resilience = ResilienceOptions.Fast with { MaxRetries = 1 } },
            Nearline = ServiceHost.Options(d, worker: true).Nearline with { MaxAttempts = 3 },
        });
        object[] events = [.. Enumerable.Range(0, 11).Select(i => new { event_id = i, user = "erin", item = $"m{i % 3}", timestamp = 1000 + i, rating = 3.0 })];
        HttpResponseMessage r = await host.PostAsync("/v1/events", new { events });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(2, (await ServiceHost.ReadAsync(r)).GetProperty("closed_partitions").GetArrayLength());

        JsonElement[] parts = [];
        for (int i = 0; i < 600; i++)
        {
            parts = [.. (await ServiceHost.ReadAsync(await host.GetAsync("/v1/users/erin/interests"))).GetProperty("partitions").EnumerateArray()];
            if (parts[0].GetProperty("status").GetString() == "failed")
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal("failed", parts[0].GetProperty("status").GetString());
        Assert.Equal(3, parts[0].GetProperty("attempts").GetInt32());
        Assert.False(string.IsNullOrEmpty(parts[0].GetProperty("error").GetString()));
        Assert.Equal(JsonValueKind.Null, parts[0].GetProperty("summary").ValueKind);
        Assert.Equal("pending", parts[1].GetProperty("status").GetString()); // waits for partition 0 (cascade)
        Assert.Equal(1, host.State.Store.PendingJobs());
        Assert.True(chat.Calls >= 6, $"{chat.Calls} calls: 3 attempts of 2 tries each expected");

        string metrics = await (await host.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Contains("liber_interest_job_failures_total 3", metrics, StringComparison.Ordinal);
        Assert.Contains("liber_interest_jobs_done_total 0", metrics, StringComparison.Ordinal);

        // Ingest still works while the backend is down.
        HttpResponseMessage more = await host.PostAsync("/v1/events", new { events = new[] { new { event_id = 99, user = "erin", item = "m1", timestamp = 2000, rating = 4.0 } } });
        Assert.Equal(1, (await ServiceHost.ReadAsync(more)).GetProperty("applied").GetInt32());
        Assert.Equal(InterestJobStatus.Failed, host.State.Store.Jobs(0)[0].Status);
    }
}
