using System.Net;
using System.Text.Json;

namespace Liber.Serve.Tests;

/// <summary>The HTTP contract of every endpoint and its errors (worker off: no encoder is loaded).</summary>
public sealed class EndpointTests : IAsyncLifetime
{
    private ServiceHost _host = null!;

    public async Task InitializeAsync() => _host = await ServiceHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static object Ev(long id, string user, string item, long ts, double? rating = 4, int? feedback = null) =>
        feedback is int f ? new { event_id = id, user, item, timestamp = ts, feedback = f } : new { event_id = id, user, item, timestamp = ts, rating };

    private static object Batch(params object[] events) => new { events };

    [Fact]
    public async Task Events_are_applied_once_and_a_repeated_batch_is_all_duplicates()
    {
        object[] events = [.. Enumerable.Range(0, 12).Select(i => Ev(1000 + i, i % 2 == 0 ? "alice" : "bob", $"m{i % 4}", 1_700_000_000 + i))];
        HttpResponseMessage first = await _host.PostAsync("/v1/events", Batch(events));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        JsonElement a = await ServiceHost.ReadAsync(first);
        Assert.Equal(12, a.GetProperty("applied").GetInt32());
        Assert.Equal(0, a.GetProperty("duplicates").GetInt32());
        Assert.Equal(0, a.GetProperty("rejected").GetArrayLength());

        // count k=5: 6 events per user close one partition each.
        JsonElement closed = a.GetProperty("closed_partitions");
        Assert.Equal(2, closed.GetArrayLength());
        JsonElement p = closed.EnumerateArray().First(c => c.GetProperty("user").GetString() == "alice");
        Assert.Equal(0, p.GetProperty("number").GetInt32());
        Assert.Equal(0, p.GetProperty("first_event").GetInt32());
        Assert.Equal(4, p.GetProperty("last_event").GetInt32());
        Assert.Equal(5, p.GetProperty("events").GetInt32());
        Assert.Equal(1_700_000_000, p.GetProperty("start_time").GetInt64());
        Assert.Equal(1_700_000_008, p.GetProperty("end_time").GetInt64());

        JsonElement b = await ServiceHost.ReadAsync(await _host.PostAsync("/v1/events", Batch(events)));
        Assert.Equal(0, b.GetProperty("applied").GetInt32());
        Assert.Equal(12, b.GetProperty("duplicates").GetInt32());
        Assert.Equal(0, b.GetProperty("closed_partitions").GetArrayLength());
        Assert.Equal(12, _host.State.Store.Totals().EventsApplied);
    }

    [Fact]
    public async Task Feedback_is_stored_as_rating_late_events_are_rejected_and_conflicting_ids_are_conflicts_with_their_index()
    {
        await _host.PostAsync("/v1/events", Batch(Ev(1, "u", "i1", 100, feedback: 1), Ev(2, "u", "i2", 200, feedback: 0)));
        JsonElement r = await ServiceHost.ReadAsync(await _host.PostAsync("/v1/events", Batch(Ev(3, "u", "i3", 300), Ev(4, "u", "i4", 150), Ev(1, "v", "i1", 400))));
        Assert.Equal(1, r.GetProperty("applied").GetInt32());
        // A late event is rejected; an id reused with other content (here another user) is a conflict, never applied.
        JsonElement late = Assert.Single(r.GetProperty("rejected").EnumerateArray());
        Assert.Equal((1, 4L), (late.GetProperty("index").GetInt32(), late.GetProperty("event_id").GetInt64()));
        Assert.Contains("of user 'u' at 150 is older", late.GetProperty("reason").GetString(), StringComparison.Ordinal);
        JsonElement conflict = Assert.Single(r.GetProperty("conflicts").EnumerateArray());
        Assert.Equal((2, 1L), (conflict.GetProperty("index").GetInt32(), conflict.GetProperty("event_id").GetInt64()));
        Assert.Contains("user 'u', item 'i1'", conflict.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("user 'v', item 'i1'", conflict.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(_host.State.Store.FindUser("v") is not int v || _host.State.Store.State(v) is not { } sv || sv.Cache.Length == 0, "user v has no applied event");
        int user = _host.State.Store.FindUser("u")!.Value;
        Assert.Equal([1f, 0f, 4f], _host.State.Store.State(user)!.Cache.Select(e => e.Rating));
    }

    [Fact]
    public async Task The_same_id_with_other_content_is_a_conflict_in_the_answer_and_the_first_content_stays()
    {
        JsonElement first = await ServiceHost.ReadAsync(await _host.PostAsync("/v1/events", Batch(Ev(7, "u", "i1", 100, rating: 4))));
        Assert.Equal(1, first.GetProperty("applied").GetInt32());
        JsonElement again = await ServiceHost.ReadAsync(await _host.PostAsync("/v1/events", Batch(Ev(7, "u", "i1", 100, rating: 4), Ev(7, "u", "i2", 100, rating: 4), Ev(7, "u", "i1", 101, rating: 4), Ev(7, "u", "i1", 100, rating: 2))));
        Assert.Equal((0, 1), (again.GetProperty("applied").GetInt32(), again.GetProperty("duplicates").GetInt32()));
        Assert.Equal([1, 2, 3], again.GetProperty("conflicts").EnumerateArray().Select(c => c.GetProperty("index").GetInt32()));
        Assert.Empty(again.GetProperty("rejected").EnumerateArray());
        int user = _host.State.Store.FindUser("u")!.Value;
        Assert.Equal([4f], _host.State.Store.State(user)!.Cache.Select(e => e.Rating));
        Assert.Equal(100, Assert.Single(_host.State.Store.State(user)!.Cache).Timestamp);
    }

    [Theory]
    [InlineData("""{"events":[{"event_id":1,"user":"u","item":"i","timestamp":1,"rating":4},{"event_id":2,"user":"u","item":"i","timestamp":"x","rating":4}]}""", "events[1].timestamp")]
    [InlineData("""{"events":[{"event_id":1,"user":"","item":"i","timestamp":1,"rating":4}]}""", "events[0].user")]
    [InlineData("""{"events":[{"event_id":1.5,"user":"u","item":"i","timestamp":1,"rating":4}]}""", "events[0].event_id")]
    [InlineData("""{"events":[{"event_id":1,"user":"u","timestamp":1,"rating":4}]}""", "events[0].item")]
    [InlineData("""{"events":[{"event_id":1,"user":"u","item":"i","timestamp":1}]}""", "events[0]")]
    [InlineData("""{"events":[{"event_id":1,"user":"u","item":"i","timestamp":1,"rating":4,"feedback":1}]}""", "events[0]")]
    [InlineData("""{"events":[{"event_id":1,"user":"u","item":"i","timestamp":1,"feedback":2}]}""", "events[0].feedback")]
    [InlineData("""{"events":[]}""", "events")]
    [InlineData("""{"evts":[]}""", "events")]
    [InlineData("""[1,2]""", "$")]
    public async Task A_malformed_batch_is_rejected_whole_with_the_field_and_index(string body, string field)
    {
        HttpResponseMessage r = await _host.PostAsync("/v1/events", body);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await ServiceHost.ReadAsync(r);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Equal(0, _host.State.Store.Totals().EventsApplied);
    }

    [Fact]
    public async Task Malformed_json_is_a_problem_without_a_stack_trace()
    {
        HttpResponseMessage r = await _host.PostAsync("/v1/events", "{\"events\": [");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string text = await r.Content.ReadAsStringAsync();
        Assert.Contains("not valid JSON", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_endpoints_need_the_api_key()
    {
        string body = JsonSerializer.Serialize(Batch(Ev(1, "u", "i", 1)));
        foreach (string? key in new[] { null, "wrong", ServiceHost.Key + "x" })
        {
            HttpResponseMessage r = await _host.PostAsync("/v1/events", body, key);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain(ServiceHost.Key, await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Unauthorized, (await _host.PostAsync("/v1/items", """{"items":[{"id":"i"}]}""", key)).StatusCode);
        }

        Assert.Equal(0, _host.State.Store.Totals().EventsApplied);
        Assert.Equal(HttpStatusCode.OK, (await _host.PostAsync("/v1/events", body)).StatusCode);
    }

    [Fact]
    public async Task Over_the_limits_is_413_for_the_body_and_400_for_the_batch()
    {
        await using ServiceHost small = await ServiceHost.StartAsync(d => ServiceHost.Options(d) with { MaxBatchEvents = 3, MaxBodyBytes = 4096 });
        HttpResponseMessage big = await small.PostAsync("/v1/events", Batch([.. Enumerable.Range(0, 100).Select(i => Ev(i, "u", "item-" + i, i))]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Equal("application/problem+json", big.Content.Headers.ContentType?.MediaType);
        HttpResponseMessage many = await small.PostAsync("/v1/events", Batch([.. Enumerable.Range(0, 4).Select(i => Ev(i, "u", "i", i))]));
        Assert.Equal(HttpStatusCode.BadRequest, many.StatusCode);
        Assert.True((await ServiceHost.ReadAsync(many)).GetProperty("errors").TryGetProperty("events", out _));
        Assert.Equal(0, small.State.Store.Totals().EventsApplied);
    }

    [Fact]
    public async Task Items_are_upserted_and_events_on_unknown_items_create_bare_ones()
    {
        JsonElement r = await ServiceHost.ReadAsync(await _host.PostAsync("/v1/items", new { items = new object[] { new { id = "m1", title = "Heat", year = 1995, categories = new[] { "Crime", "Drama" }, tags = new[] { "heist" }, text = "LA" }, new { id = "m2" } } }));
        Assert.Equal(2, r.GetProperty("upserted").GetInt32());
        Assert.Equal(2, r.GetProperty("changed").GetInt32());
        Assert.Equal(0, (await ServiceHost.ReadAsync(await _host.PostAsync("/v1/items", new { items = new object[] { new { id = "m2" } } }))).GetProperty("changed").GetInt32());
        Assert.Equal(["Crime", "Drama"], _host.State.Store.FindItemMetadata("m1")!.Categories);
        await _host.PostAsync("/v1/events", Batch(Ev(1, "u", "m3", 1)));
        Assert.Equal("m3", _host.State.Store.FindItemMetadata("m3")!.Title);

        HttpResponseMessage bad = await _host.PostAsync("/v1/items", """{"items":[{"id":"ok"},{"id":"x","categories":["a",3]}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await ServiceHost.ReadAsync(bad)).GetProperty("errors").TryGetProperty("items[1].categories[1]", out _));
        Assert.Null(_host.State.Store.FindItemMetadata("ok"));
    }

    [Fact]
    public async Task Interests_list_partitions_as_pending_and_unknown_users_are_404()
    {
        await _host.PostAsync("/v1/events", Batch([.. Enumerable.Range(0, 13).Select(i => Ev(i, "carol", "m" + (i % 3), 10 * i))]));
        HttpResponseMessage r = await _host.GetAsync("/v1/users/carol/interests");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        JsonElement j = await ServiceHost.ReadAsync(r);
        Assert.Equal("carol", j.GetProperty("user").GetString());
        Assert.Equal(13, j.GetProperty("events").GetInt32());
        Assert.Equal(3, j.GetProperty("cache_events").GetInt32());
        JsonElement[] parts = [.. j.GetProperty("partitions").EnumerateArray()];
        Assert.Equal([0, 1], parts.Select(p => p.GetProperty("number").GetInt32()));
        Assert.All(parts, p => Assert.Equal("pending", p.GetProperty("status").GetString()));
        Assert.All(parts, p => Assert.Equal(JsonValueKind.Null, p.GetProperty("summary").ValueKind));
        Assert.Equal(5, parts[1].GetProperty("first_event").GetInt32());
        Assert.Equal(2, _host.State.Store.PendingJobs());

        HttpResponseMessage missing = await _host.GetAsync("/v1/users/nobody/interests");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Rank_without_a_checkpoint_is_503_saying_why()
    {
        HttpResponseMessage r = await _host.PostAsync("/v1/rank", new { user = "u", candidates = new[] { "i" } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.Contains("--checkpoint", (await ServiceHost.ReadAsync(r)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_metrics_and_openapi_answer()
    {
        await _host.PostAsync("/v1/events", Batch([.. Enumerable.Range(0, 6).Select(i => Ev(i, "dave", "m", i))]));
        JsonElement h = await ServiceHost.ReadAsync(await _host.Client.GetAsync("/healthz"));
        Assert.Equal("ok", h.GetProperty("status").GetString());
        Assert.Equal(1, h.GetProperty("pending_jobs").GetInt64());

        string metrics = await (await _host.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Contains("liber_events_applied_total 6", metrics, StringComparison.Ordinal);
        Assert.Contains("liber_partitions_closed_total 1", metrics, StringComparison.Ordinal);
        Assert.Contains("liber_interest_queue_depth 1", metrics, StringComparison.Ordinal);
        Assert.Contains("liber_http_request_duration_seconds_bucket{endpoint=\"/v1/events\",code=\"200\"", metrics, StringComparison.Ordinal);
        Assert.Contains("liber_llm_calls_total", metrics, StringComparison.Ordinal);
        Assert.Contains("liber_encoder_calls_total", metrics, StringComparison.Ordinal);

        JsonElement api = await ServiceHost.ReadAsync(await _host.Client.GetAsync("/openapi/v1.json"));
        JsonElement paths = api.GetProperty("paths");
        foreach (string p in new[] { "/v1/events", "/v1/items", "/v1/users/{id}/interests", "/v1/rank", "/healthz" })
        {
            Assert.True(paths.TryGetProperty(p, out _), $"{p} missing from the OpenAPI document");
        }
    }

    [Fact]
    public async Task The_service_refuses_to_start_without_a_key_unless_told_to()
    {
        string dir = Directory.CreateTempSubdirectory("liber-serve-").FullName;
        try
        {
            string? saved = Environment.GetEnvironmentVariable(LiberService.ApiKeyVariable);
            Assert.True(string.IsNullOrEmpty(saved), "the test environment sets LIBER_API_KEY");
            var e = Assert.Throws<ArgumentException>(() => LiberService.Build(ServiceHost.Options(dir) with { ApiKey = null }));
            Assert.Contains(LiberService.ApiKeyVariable, e.Message, StringComparison.Ordinal);
            await using ServiceHost open = await ServiceHost.StartAsync(d => ServiceHost.Options(d) with { ApiKey = null, InsecureNoAuth = true }, dir: Path.Combine(dir, "x"));
            Assert.Equal(HttpStatusCode.OK, (await open.PostAsync("/v1/events", Batch(Ev(1, "u", "i", 1)), key: null)).StatusCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
