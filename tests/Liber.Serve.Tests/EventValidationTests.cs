using System.Net;
using System.Text.Json;
using Liber.Core.Data;

namespace Liber.Serve.Tests;

/// <summary>The service refuses what the readers refuse (the same <see cref="EventRules"/>), so one bad event cannot poison a user.</summary>
public sealed class EventValidationTests : IAsyncLifetime
{
    private ServiceHost _host = null!;

    public async Task InitializeAsync() => _host = await ServiceHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string Event(long id, string user, long ts, string value = "\"rating\":4") =>
        $$"""{"event_id":{{id}},"user":"{{user}}","item":"i","timestamp":{{ts}},{{value}}}""";

    private async Task<JsonElement> RefusedAsync(params string[] events)
    {
        HttpResponseMessage r = await _host.PostAsync("/v1/events", $$"""{"events":[{{string.Join(",", events)}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        return (await ServiceHost.ReadAsync(r)).GetProperty("errors");
    }

    private static string Message(JsonElement errors, string field) =>
        errors.TryGetProperty(field, out JsonElement m) ? string.Join(" | ", m.EnumerateArray().Select(x => x.GetString())) : throw new Xunit.Sdk.XunitException($"no error for {field}: {errors}");

    [Theory]
    [InlineData(-5_000_000_000L, "before 1970")]
    [InlineData(253_402_300_800_000L, "after 2100: timestamps are unix seconds")]
    [InlineData(long.MaxValue, "after 2100: timestamps are unix seconds")]
    [InlineData(4_102_444_800L, "after 2100")]
    [InlineData(1_700_000_000_000L, "timestamp 1700000000000 is after 2100: milliseconds? send unix seconds")]
    [InlineData(253_402_300_800L, "milliseconds? send unix seconds")]
    public async Task Timestamps_outside_1970_to_2100_are_refused_with_the_readers_message(long ts, string expected)
    {
        JsonElement errors = await RefusedAsync(Event(1, "u", ts));
        Assert.Contains(expected, Message(errors, "events[0].timestamp"), StringComparison.Ordinal);
        Assert.Equal(EventRules.TimestampProblem(ts, "send unix seconds"), Message(errors, "events[0].timestamp"));
        Assert.Equal(0, _host.State.Store.Totals().EventsApplied);
    }

    [Theory]
    [InlineData("99")]
    [InlineData("-3")]
    [InlineData("4.5")]
    [InlineData("0")]
    public async Task Ratings_off_the_scale_are_refused_naming_the_scale(string rating)
    {
        JsonElement errors = await RefusedAsync(Event(1, "u", 1_700_000_000, $"\"rating\":{rating}"));
        string message = Message(errors, "events[0].rating");
        Assert.Contains($"rating {rating} is not on the rating scale [1, 5] in steps of 1", message, StringComparison.Ordinal);
        Assert.Contains("--rating-scale", message, StringComparison.Ordinal);
        Assert.Equal(0, _host.State.Store.Totals().EventsApplied);
    }

    [Fact]
    public async Task A_batch_with_bad_events_is_refused_whole_listing_every_one_by_index()
    {
        JsonElement errors = await RefusedAsync(
            Event(1, "u", 1_700_000_000),
            Event(2, "u", 1_700_000_000_000),
            Event(3, "u", 1_700_000_001, "\"rating\":99"),
            Event(4, "u", -1),
            Event(5, "u", 1_700_000_002));
        Assert.Equal(["events[1].timestamp", "events[2].rating", "events[3].timestamp"], errors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(0, _host.State.Store.Totals().EventsApplied);
    }

    [Fact]
    public async Task A_millisecond_timestamp_no_longer_poisons_the_user()
    {
        Assert.Equal(HttpStatusCode.OK, (await _host.PostAsync("/v1/events", $$"""{"events":[{{Event(1, "u", 1_700_000_000)}}]}""")).StatusCode);
        await RefusedAsync(Event(2, "u", 1_700_000_000_000));

        // Before the fix the millisecond event was applied and every later event of "u" was "older than its last event".
        HttpResponseMessage next = await _host.PostAsync("/v1/events", $$"""{"events":[{{Event(3, "u", 1_700_000_100)}}]}""");
        JsonElement r = await ServiceHost.ReadAsync(next);
        Assert.Equal(1, r.GetProperty("applied").GetInt32());
        Assert.Equal(0, r.GetProperty("rejected").GetArrayLength());
        Assert.Equal(2, _host.State.Store.Totals().EventsApplied);
    }

    [Fact]
    public async Task Feedback_is_not_a_rating_and_stays_0_or_1()
    {
        JsonElement r = await ServiceHost.ReadAsync(await _host.PostAsync("/v1/events", $$"""{"events":[{{Event(1, "u", 1_700_000_000, "\"feedback\":0")}}]}"""));
        Assert.Equal(1, r.GetProperty("applied").GetInt32());
        Assert.True(Message(await RefusedAsync(Event(2, "u", 1_700_000_001, "\"feedback\":1.0e400")), "events[0].feedback").Length > 0);
    }

    [Fact]
    public async Task The_scale_is_configurable_and_half_stars_are_then_accepted()
    {
        await using ServiceHost half = await ServiceHost.StartAsync(d => ServiceHost.Options(d) with { RatingScale = EventRules.ParseScale("0.5:5:0.5") });
        JsonElement ok = await ServiceHost.ReadAsync(await half.PostAsync("/v1/events", $$"""{"events":[{{Event(1, "u", 1_700_000_000, "\"rating\":4.5")}},{{Event(2, "u", 1_700_000_001, "\"rating\":0.5")}}]}"""));
        Assert.Equal(2, ok.GetProperty("applied").GetInt32());
        HttpResponseMessage bad = await half.PostAsync("/v1/events", $$"""{"events":[{{Event(3, "u", 1_700_000_002, "\"rating\":4.25")}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("[0.5, 5] in steps of 0.5", Message((await ServiceHost.ReadAsync(bad)).GetProperty("errors"), "events[0].rating"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_scale_defaults_to_whole_stars_and_the_option_overrides_it()
    {
        ServeOptions options = ServiceHost.Options(Path.GetTempPath());
        Assert.Equal(RatingScale.FiveStars, options.Scale);
        Assert.Equal(new RatingScale(0, 10, 4), (options with { RatingScale = EventRules.ParseScale("0:10") }).Scale);
        Assert.Equal(RatingScale.HalfStars, EventRules.ParseScale("0.5:5:0.5"));
        Assert.Contains("MIN:MAX[:STEP]", Assert.Throws<ArgumentException>(() => EventRules.ParseScale("5:1")).Message, StringComparison.Ordinal);
    }
}
