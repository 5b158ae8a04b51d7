using System.Net;

namespace Liber.Serve.Tests;

/// <summary>Every /v1 route needs a key; the read key opens reads only; /metrics needs a key unless opened; /healthz is open.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private const string ReadKey = "read-key-9876543210";
    private const string Events = """{"events":[{"event_id":1,"user":"u","item":"i","timestamp":1700000000,"rating":4}]}""";
    private ServiceHost _host = null!;

    public async Task InitializeAsync() => _host = await ServiceHost.StartAsync(d => ServiceHost.Options(d) with { ReadApiKey = ReadKey });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<HttpResponseMessage> InterestsAsync(string? key) => _host.GetAsync("/v1/users/u/interests", key);

    private Task<HttpResponseMessage> RankAsync(string? key) => _host.PostAsync("/v1/rank", """{"user":"u","candidates":["i"]}""", key);

    [Fact]
    public async Task Reads_need_a_key_too()
    {
        Assert.Equal(HttpStatusCode.OK, (await _host.PostAsync("/v1/events", Events)).StatusCode);
        foreach (string? key in new[] { null, "wrong", ReadKey + "x" })
        {
            HttpResponseMessage interests = await InterestsAsync(key);
            Assert.Equal(HttpStatusCode.Unauthorized, interests.StatusCode);
            Assert.Equal("application/problem+json", interests.Content.Headers.ContentType?.MediaType);
            string body = await interests.Content.ReadAsStringAsync();
            Assert.DoesNotContain(ReadKey, body, StringComparison.Ordinal);
            Assert.DoesNotContain(ServiceHost.Key, body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Unauthorized, (await RankAsync(key)).StatusCode);
        }
    }

    [Fact]
    public async Task The_read_key_opens_reads_and_is_forbidden_on_writes()
    {
        Assert.Equal(HttpStatusCode.OK, (await _host.PostAsync("/v1/events", Events)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await InterestsAsync(ReadKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await InterestsAsync(ServiceHost.Key)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await RankAsync(ReadKey)).StatusCode); // past auth: no checkpoint

        HttpResponseMessage write = await _host.PostAsync("/v1/events", Events.Replace("\"event_id\":1", "\"event_id\":2", StringComparison.Ordinal), ReadKey);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Contains("LIBER_API_KEY", (await ServiceHost.ReadAsync(write)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await _host.PostAsync("/v1/items", """{"items":[{"id":"i"}]}""", ReadKey)).StatusCode);
        Assert.Equal(1, _host.State.Store.Totals().EventsApplied);
    }

    [Fact]
    public async Task Metrics_need_a_key_by_default_and_healthz_is_open()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _host.GetAsync("/metrics", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.GetAsync("/metrics", ReadKey)).StatusCode);
        Assert.Contains("liber_events_applied_total", await (await _host.GetAsync("/metrics")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _host.GetAsync("/healthz", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.GetAsync("/openapi/v1.json", key: null)).StatusCode);
    }

    [Fact]
    public async Task Metrics_can_be_opened_for_a_scraper_without_opening_v1()
    {
        await using ServiceHost open = await ServiceHost.StartAsync(d => ServiceHost.Options(d) with { MetricsNoAuth = true });
        Assert.Equal(HttpStatusCode.OK, (await open.GetAsync("/metrics", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await open.GetAsync("/v1/users/u/interests", key: null)).StatusCode);
    }

    [Fact]
    public async Task Insecure_no_auth_opens_every_route()
    {
        await using ServiceHost open = await ServiceHost.StartAsync(d => ServiceHost.Options(d) with { ApiKey = null, InsecureNoAuth = true });
        Assert.Equal(HttpStatusCode.OK, (await open.PostAsync("/v1/events", Events, key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await open.GetAsync("/v1/users/u/interests", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await open.PostAsync("/v1/rank", """{"user":"u","candidates":["i"]}""", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await open.GetAsync("/metrics", key: null)).StatusCode);
    }
}
