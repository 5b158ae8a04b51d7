using System.Net;
using System.Text.Json;
using Liber.Core.Data;
using Liber.Core.Storage;
using Liber.Serve.Api;

namespace Liber.Serve.Tests;

/// <summary>
/// Request bodies are read into their DTOs by the strict deserializer and checked by the DTOs' Validate: a bad value of each
/// field type is named by its path with its field's message, every bad field of a body is listed (not only the first the
/// deserializer stops at), and the walk agrees with the deserializer's own path.
/// </summary>
public sealed class DtoValidationTests
{
    private const string Valid = """{"event_id":1,"user":"u","item":"i","timestamp":1700000000,"rating":4}""";
    private static readonly string IdRequired = $"required: a non-empty string of at most {EventRules.MaxIdLength} Unicode characters";
    private static readonly string IdText = $"must be a string of valid Unicode of at most {EventRules.MaxIdLength} characters";
    private static readonly ServeOptions Options = ServiceHost.Options(Path.GetTempPath());

    /// <summary>The errors of a body: the deserializer's, or else the DTO's Validate.</summary>
    private static Dictionary<string, string[]> Problems<T>(string json, Func<T, IEnumerable<(string Path, string Error)>> validate)
        where T : class
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        var errors = new Errors();
        if (RequestJson.Bind<T>(doc.RootElement, errors) is T body)
        {
            Assert.False(errors.Any);
            foreach ((string path, string error) in validate(body))
            {
                errors.Add(path, error);
            }
        }
        else
        {
            Assert.True(errors.Any, "a body that was not read has no error");
        }

        return errors.Fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
    }

    private static Dictionary<string, string[]> EventProblems(string secondEvent) =>
        Problems<EventsRequest>($$"""{"events":[{{Valid}},{{secondEvent}}]}""", b => b.Validate(Options));

    private static void AssertOnly(Dictionary<string, string[]> problems, string path, string message)
    {
        Assert.True(problems.Count == 1, $"expected only {path}, got {string.Join(", ", problems.Keys)}");
        Assert.Equal([message], problems[path]);
    }

    [Theory]
    [InlineData("event_id", "\"1\"", "required: an integer (int64)")]
    [InlineData("event_id", "1.5", "required: an integer (int64)")]
    [InlineData("event_id", "99999999999999999999999", "required: an integer (int64)")]
    [InlineData("timestamp", "true", "required: an integer (int64)")]
    [InlineData("timestamp", "null", "required: an integer (int64)")]
    [InlineData("rating", "\"4\"", "must be a finite number")]
    [InlineData("rating", "[4]", "must be a finite number")]
    [InlineData("feedback", "1.5", "must be the integer 0 or 1")]
    [InlineData("feedback", "\"1\"", "must be the integer 0 or 1")]
    public void A_number_field_of_the_wrong_type_is_named_by_its_path(string field, string value, string message)
    {
        string ev = field == "feedback" ? Valid.Replace("\"rating\":4", $"\"feedback\":{value}", StringComparison.Ordinal) : Replace(Valid, field, value);
        AssertOnly(EventProblems(ev), $"events[1].{field}", message);
    }

    [Theory]
    [InlineData("user", "5", false)]
    [InlineData("user", "null", false)]
    [InlineData("user", "{}", false)]
    [InlineData("item", "[\"i\"]", false)]
    [InlineData("user", "\"\\ud800\"", true)]
    [InlineData("item", "\"x\\udc00\"", true)]
    public void An_id_field_of_the_wrong_type_or_broken_text_is_named_by_its_path(string field, string value, bool text)
    {
        AssertOnly(EventProblems(Replace(Valid, field, value)), $"events[1].{field}", text ? IdText : IdRequired);
    }

    [Fact]
    public void A_missing_field_an_unknown_field_and_an_element_that_is_not_an_object_are_named()
    {
        AssertOnly(EventProblems(Valid.Replace("\"item\":\"i\",", "", StringComparison.Ordinal)), "events[1].item", IdRequired);
        AssertOnly(EventProblems(Valid.Replace("{", "{\"extra\":1,", StringComparison.Ordinal)), "events[1].extra", RequestRules.UnknownField);
        AssertOnly(EventProblems("3"), "events[1]", "must be an object");
        AssertOnly(EventProblems("null"), "events[1]", "must be an object");
        AssertOnly(Problems<EventsRequest>("""{"events":{}}""", b => b.Validate(Options)), "events", "required: an array");
        AssertOnly(Problems<EventsRequest>("""[1]""", b => b.Validate(Options)), "$", "the body must be a JSON object");
        AssertOnly(Problems<EventsRequest>("""null""", b => b.Validate(Options)), "$", "the body must be a JSON object");
        Dictionary<string, string[]> renamed = Problems<EventsRequest>("""{"evts":[]}""", b => b.Validate(Options));
        Assert.Equal(["events", "evts"], renamed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["required: an array"], renamed["events"]);
    }

    [Fact]
    public void Every_bad_field_of_a_body_is_listed_not_only_the_first()
    {
        Dictionary<string, string[]> problems = Problems<EventsRequest>(
            """{"events":[{"event_id":"1","user":5,"item":"i","timestamp":"x","rating":4,"more":[]},7,{"event_id":2,"user":"u","timestamp":1,"feedback":0.5}]}""",
            b => b.Validate(Options));
        Assert.Equal(
            ["events[0].event_id", "events[0].more", "events[0].timestamp", "events[0].user", "events[1]", "events[2].feedback", "events[2].item"],
            problems.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{"events":[{"event_id":"1","user":"u","item":"i","timestamp":1,"rating":4}]}""")]
    [InlineData("""{"events":[{"event_id":1,"user":"u","item":"i","timestamp":1,"rating":4},{"event_id":1,"user":"\ud800","item":"i","timestamp":1,"rating":4}]}""")]
    [InlineData("""{"events":[{"event_id":1,"user":"u","item":"i","timestamp":1,"rating":4,"a b":1}]}""")]
    [InlineData("""{"events":[{"event_id":1,"user":null,"item":"i","timestamp":1,"rating":4}]}""")]
    [InlineData("""{"events":null}""")]
    public void The_walk_names_the_field_the_deserializer_stopped_at(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonException e = Assert.Throws<JsonException>(() => doc.Deserialize<EventsRequest>(RequestJson.Options));
        var errors = new Errors();
        Assert.Null(RequestJson.Bind<EventsRequest>(doc.RootElement, errors));
        Assert.Contains(RequestJson.FieldPath(e.Path), errors.Fields.Keys);
    }

    [Theory]
    [InlineData("$.events[3].timestamp", "events[3].timestamp")]
    [InlineData("$.items[1].categories[1]", "items[1].categories[1]")]
    [InlineData("$.user", "user")]
    [InlineData("$.events[0]['a b']", "events[0].a b")]
    [InlineData("$['x.y'][2]", "x.y[2]")]
    [InlineData("$", "$")]
    [InlineData(null, "$")]
    public void Deserializer_paths_are_written_in_the_errors_style(string? jsonPath, string expected) =>
        Assert.Equal(expected, RequestJson.FieldPath(jsonPath));

    [Theory]
    [InlineData(1_700_000_000_000L, "\"rating\":4", "timestamp", "milliseconds? send unix seconds")]
    [InlineData(1_700_000_000L, "\"rating\":99", "rating", "is not on the rating scale [1, 5]")]
    [InlineData(1_700_000_000L, "\"rating\":1e400", "rating", "must be a finite number")]
    [InlineData(1_700_000_000L, "\"rating\":1e39", "rating", "must be a finite number")]
    [InlineData(1_700_000_000L, "\"feedback\":2", "feedback", "must be the integer 0 or 1")]
    public void Values_that_fit_their_type_are_checked_by_the_DTO(long ts, string value, string field, string message)
    {
        Dictionary<string, string[]> problems = EventProblems($$"""{"event_id":2,"user":"u","item":"i","timestamp":{{ts}},{{value}}}""");
        Assert.Equal([$"events[1].{field}"], problems.Keys);
        Assert.Contains(message, Assert.Single(problems[$"events[1].{field}"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Event_values_rating_or_feedback_blank_ids_and_the_batch_size_are_checked()
    {
        AssertOnly(EventProblems("""{"event_id":2,"user":"u","item":"i","timestamp":1700000000}"""), "events[1]", "exactly one of rating and feedback is required");
        AssertOnly(EventProblems("""{"event_id":2,"user":"u","item":"i","timestamp":1700000000,"rating":4,"feedback":1}"""), "events[1]", "exactly one of rating and feedback is required");
        Assert.Empty(EventProblems("""{"event_id":2,"user":"u","item":"i","timestamp":1700000000,"rating":null,"feedback":1}"""));
        AssertOnly(EventProblems("""{"event_id":2,"user":"  ","item":"i","timestamp":1700000000,"rating":4}"""), "events[1].user", EventRules.IdProblem("  ")!);
        AssertOnly(Problems<EventsRequest>("""{"events":[]}""", b => b.Validate(Options)), "events", "a batch holds 1 to 10000 events (got 0)");
        AssertOnly(Problems<EventsRequest>($$"""{"events":[{{Valid}},{{Valid}}]}""", b => b.Validate(Options with { MaxBatchEvents = 1 })), "events", "a batch holds 1 to 1 events (got 2)");
    }

    [Fact]
    public void A_valid_body_is_read_into_its_DTO_and_then_the_store_event()
    {
        using JsonDocument doc = JsonDocument.Parse($$"""{"events":[{{Valid}},{"event_id":2,"user":"😀","item":"j","timestamp":1700000001,"rating":null,"feedback":1}]}""");
        var errors = new Errors();
        EventsRequest body = RequestJson.Bind<EventsRequest>(doc.RootElement, errors)!;
        Assert.Equal(new EventDto(1, "u", "i", 1_700_000_000, Rating: 4), body.Events[0]);
        Assert.Equal(new EventDto(2, "😀", "j", 1_700_000_001, Feedback: 1), body.Events[1]);
        Assert.Empty(body.Validate(Options));
        Assert.Equal([4f, 1f], body.Events.Select(e => e.ToEvent().Rating));
    }

    [Theory]
    [InlineData("""{"id":"m","year":"1995"}""", "items[1].year", "must be an integer or null")]
    [InlineData("""{"id":"m","year":1995.5}""", "items[1].year", "must be an integer or null")]
    [InlineData("""{"id":"m","title":5}""", "items[1].title", "must be a string of valid Unicode of at most 1000 characters or null")]
    [InlineData("""{"id":"m","text":["x"]}""", "items[1].text", "must be a string of valid Unicode of at most 20000 characters or null")]
    [InlineData("""{"id":"m","categories":"Drama"}""", "items[1].categories", "must be an array of at most 100 strings or null")]
    [InlineData("""{"id":"m","categories":["a",3]}""", "items[1].categories[1]", "must be a non-empty string of at most 200 characters")]
    [InlineData("""{"id":"m","tags":[null]}""", "items[1].tags[0]", "must be a non-empty string of at most 200 characters")]
    [InlineData("""{"id":"m","tags":[""]}""", "items[1].tags[0]", "must be a non-empty string of at most 200 characters")]
    [InlineData("""{"title":"t"}""", "items[1].id", "required: a non-empty string of at most 128 Unicode characters")]
    [InlineData("""{"id":" "}""", "items[1].id", "must be a non-empty string of at most 128 Unicode characters, not blank")]
    [InlineData("""{"id":"m","rating":4}""", "items[1].rating", RequestRules.UnknownField)]
    public void An_item_field_of_the_wrong_type_or_value_is_named_by_its_path(string item, string path, string message) =>
        AssertOnly(Problems<ItemsRequest>($$"""{"items":[{"id":"ok","title":null,"year":null},{{item}}]}""", b => b.Validate(Options)), path, message);

    [Fact]
    public void An_item_with_a_title_too_long_and_too_many_tags_is_refused_by_its_DTO()
    {
        string tags = string.Join(",", Enumerable.Repeat("\"t\"", 101));
        Dictionary<string, string[]> problems = Problems<ItemsRequest>($$"""{"items":[{"id":"m","title":"{{new string('x', 1001)}}","tags":[{{tags}}]}]}""", b => b.Validate(Options));
        Assert.Equal(["items[0].tags", "items[0].title"], problems.Keys.Order(StringComparer.Ordinal));
        ItemMetadata m = new ItemDto("m", Year: 1995, Categories: ["a"]).ToMetadata();
        Assert.Equal(("m", (string?)null, (int?)1995, "a", 0), (m.Id, m.Title, m.Year, Assert.Single(m.Categories), m.Tags.Count));
    }

    [Theory]
    [InlineData("""{"user":"u","candidates":["a",5]}""", "candidates[1]", false)]
    [InlineData("""{"user":"u","candidates":["a",null]}""", "candidates[1]", false)]
    [InlineData("""{"user":"u","candidates":["a",""]}""", "candidates[1]", false)]
    [InlineData("""{"user":"u","candidates":"a"}""", "candidates", false)]
    [InlineData("""{"user":"u","candidates":[]}""", "candidates", false)]
    [InlineData("""{"user":{},"candidates":["a"]}""", "user", true)]
    [InlineData("""{"candidates":["a"]}""", "user", true)]
    [InlineData("""["u"]""", "$", false)]
    public void A_rank_field_of_the_wrong_type_or_value_is_named_by_its_path(string json, string path, bool idRequired)
    {
        Dictionary<string, string[]> problems = Problems<RankRequest>(json, b => b.Validate(Options));
        Assert.Equal([path], problems.Keys);
        if (idRequired)
        {
            Assert.Equal([IdRequired], problems[path]);
        }
    }

    [Theory]
    [InlineData("""5""", "$", "a JSON object with user and item")]
    [InlineData("""{"user":"u","item":3}""", "item", "required: a non-empty string of at most 128 Unicode characters")]
    [InlineData("""{"user":"u"}""", "item", "required: a non-empty string of at most 128 Unicode characters")]
    [InlineData("""{"user":"u\u0001","item":"i"}""", "user", "contains the control character U+0001: ids are printable text")]
    public void An_explain_field_of_the_wrong_type_or_value_is_named_by_its_path(string json, string path, string message) =>
        AssertOnly(Problems<ExplainRequest>(json, b => b.Validate()), path, message);

    [Fact]
    public async Task Over_HTTP_an_unknown_field_is_a_400_naming_it_and_nothing_is_applied()
    {
        await using ServiceHost host = await ServiceHost.StartAsync();
        HttpResponseMessage r = await host.PostAsync("/v1/events", $$"""{"events":[{{Valid.Replace("{", "{\"extra\":{\"a\":1},", StringComparison.Ordinal)}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await ServiceHost.ReadAsync(r);
        Assert.Equal("invalid request", problem.GetProperty("title").GetString());
        Assert.Equal([RequestRules.UnknownField], problem.GetProperty("errors").GetProperty("events[0].extra").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(0, host.State.Store.Totals().EventsApplied);
    }

    /// <summary>The event with one field's value replaced (its raw JSON).</summary>
    private static string Replace(string ev, string field, string value)
    {
        int start = ev.IndexOf($"\"{field}\":", StringComparison.Ordinal) + field.Length + 3;
        int end = ev.IndexOfAny([',', '}'], start);
        return ev[..start] + value + ev[end..];
    }
}
