using System.Net;
using System.Text.Json;
using Liber.Core.Storage;
using Liber.Serve.Api;

namespace Liber.Serve.Tests;

/// <summary>The events answer reports conflicts; the OpenAPI document says what the server accepts.</summary>
public sealed class ContractTests : IAsyncLifetime
{
    private ServiceHost _host = null!;

    public async Task InitializeAsync() => _host = await ServiceHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Conflicts_from_the_store_are_answered_with_index_id_and_reason_and_counted()
    {
        // What the endpoint does with a store result that holds conflicts (the store fills them in; see AppendResult.Conflicts).
        var result = new AppendResult
        {
            Applied = 1,
            Conflicts = [new RejectedEvent(2, 42, "event 42 was already applied for user 'u' with item 'a', not item 'b'")],
            Rejected = [new RejectedEvent(1, 7, "late")],
        };
        EventsResponse answer = EventsEndpoint.Answer(result, _host.State);
        RejectedDto conflict = Assert.Single(answer.Conflicts);
        Assert.Equal(new RejectedDto(2, 42, "event 42 was already applied for user 'u' with item 'a', not item 'b'"), conflict);
        Assert.Equal(7, Assert.Single(answer.Rejected).EventId);

        JsonElement json = JsonSerializer.SerializeToElement(answer, ServiceHost.Json);
        Assert.Equal(42, json.GetProperty("conflicts")[0].GetProperty("event_id").GetInt64());
        Assert.Equal(2, json.GetProperty("conflicts")[0].GetProperty("index").GetInt32());

        string metrics = await (await _host.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Contains("liber_events_conflict_total 1", metrics, StringComparison.Ordinal);
        Assert.Contains("liber_events_rejected_total 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_events_answer_has_a_conflicts_list()
    {
        JsonElement r = await ServiceHost.ReadAsync(await _host.PostAsync("/v1/events", """{"events":[{"event_id":1,"user":"u","item":"i","timestamp":1700000000,"rating":4}]}"""));
        Assert.Equal(JsonValueKind.Array, r.GetProperty("conflicts").ValueKind);
    }

    private async Task<JsonElement> DocumentAsync() => await ServiceHost.ReadAsync(await _host.GetAsync("/openapi/v1.json", key: null));

    private static HashSet<string> Types(JsonElement schema) => schema.TryGetProperty("type", out JsonElement t)
        ? t.ValueKind == JsonValueKind.Array ? [.. t.EnumerateArray().Select(x => x.GetString()!)] : [t.GetString()!]
        : [];

    [Fact]
    public async Task The_event_schema_takes_integers_only_and_rating_or_feedback()
    {
        JsonElement ev = (await DocumentAsync()).GetProperty("components").GetProperty("schemas").GetProperty("EventDto");
        JsonElement props = ev.GetProperty("properties");
        Assert.Equal(["integer"], Types(props.GetProperty("event_id")));
        Assert.Equal(["integer"], Types(props.GetProperty("timestamp")));
        Assert.False(props.GetProperty("timestamp").TryGetProperty("pattern", out _), "a numeric-string pattern is left on timestamp");
        Assert.Contains("null", Types(props.GetProperty("rating")));
        Assert.Contains("null", Types(props.GetProperty("feedback")));
        string[] required = [.. ev.GetProperty("required").EnumerateArray().Select(x => x.GetString()!)];
        Assert.Equal(["event_id", "item", "timestamp", "user"], required.Order(StringComparer.Ordinal));
        Assert.Contains("Exactly one of rating and feedback", ev.GetProperty("description").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(128, props.GetProperty("user").GetProperty("maxLength").GetInt32());
        Assert.Contains("Unicode characters", props.GetProperty("user").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("[1, 5] in steps of 1", props.GetProperty("rating").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_v1_operation_requires_the_api_key_scheme_and_health_does_not()
    {
        JsonElement doc = await DocumentAsync();
        JsonElement scheme = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        Assert.Equal("X-Api-Key", scheme.GetProperty("name").GetString());
        int v1 = 0;
        foreach (JsonProperty path in doc.GetProperty("paths").EnumerateObject())
        {
            foreach (JsonProperty op in path.Value.EnumerateObject())
            {
                bool secured = op.Value.TryGetProperty("security", out JsonElement s) && s.EnumerateArray().Any(r => r.TryGetProperty("ApiKey", out _));
                Assert.True(secured == path.Name.StartsWith("/v1/", StringComparison.Ordinal), $"{op.Name} {path.Name}: security {secured}");
                v1 += secured ? 1 : 0;
            }
        }

        Assert.Equal(6, v1); // events, items (post and search), interests, rank, explain
        JsonElement events = doc.GetProperty("components").GetProperty("schemas").GetProperty("EventsResponse").GetProperty("properties");
        Assert.True(events.TryGetProperty("conflicts", out _));
    }

    [Fact]
    public async Task A_numeric_string_is_refused_as_the_schema_says()
    {
        HttpResponseMessage r = await _host.PostAsync("/v1/events", """{"events":[{"event_id":"1","user":"u","item":"i","timestamp":"1700000000","rating":4}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        JsonElement errors = (await ServiceHost.ReadAsync(r)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("events[0].event_id", out _));
        Assert.True(errors.TryGetProperty("events[0].timestamp", out _));
    }

    [Fact]
    public async Task Duplicate_keys_are_malformed_rather_than_a_guess()
    {
        HttpResponseMessage r = await _host.PostAsync("/v1/events", """{"events":[{"event_id":1,"user":"u","item":"i","timestamp":1700000000,"timestamp":1700000000000,"rating":4}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("appears twice", (await ServiceHost.ReadAsync(r)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, _host.State.Store.Totals().EventsApplied);
    }
}
