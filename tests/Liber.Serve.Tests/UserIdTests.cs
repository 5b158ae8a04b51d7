using System.Net;
using System.Text.Json;
using Liber.Core.Data;

namespace Liber.Serve.Tests;

/// <summary>External ids round-trip through the service whatever their characters, and their length counts Unicode characters.</summary>
public sealed class UserIdTests : IAsyncLifetime
{
    private static readonly string Emoji128 = string.Concat(Enumerable.Repeat("😀", EventRules.MaxIdLength));
    private ServiceHost _host = null!;

    public async Task InitializeAsync() => _host = await ServiceHost.StartAsync(loader: _ => new HistoryCountModel(), options: d => ServiceHost.Options(d) with { CheckpointDirectory = d });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string> Ids() => new()
    {
        "a/b", "/leading", "a%2Fb", "100%", "a%b", "with space", " padded ", "José", "用户", "a+b", "a?b#c", "😀", Emoji128,
    };

    private async Task IngestAsync(string user, int events, long firstId = 1)
    {
        object[] batch = [.. Enumerable.Range(0, events).Select(i => new { event_id = firstId + i, user, item = $"m{i}", timestamp = 1_700_000_000 + i, rating = 4 })];
        HttpResponseMessage r = await _host.PostAsync("/v1/events", new { events = batch });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task An_ingested_user_reads_back_its_interests_and_ranks(string user)
    {
        await IngestAsync(user, 7);
        HttpResponseMessage r = await _host.GetAsync($"/v1/users/{Uri.EscapeDataString(user)}/interests");
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"{(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        JsonElement j = await ServiceHost.ReadAsync(r);
        Assert.Equal(user, j.GetProperty("user").GetString());
        Assert.Equal(7, j.GetProperty("events").GetInt32());
        Assert.Equal(1, j.GetProperty("partitions").GetArrayLength());

        JsonElement rank = await ServiceHost.ReadAsync(await _host.PostAsync("/v1/rank", new { user, candidates = new[] { "m1", "x" } }));
        Assert.Equal(user, rank.GetProperty("user").GetString());
        Assert.Equal(7, rank.GetProperty("history_events").GetInt32());
        Assert.Equal(7f, rank.GetProperty("scores")[0].GetProperty("score").GetSingle());
    }

    [Fact]
    public async Task A_slash_and_its_escaped_spelling_are_two_users()
    {
        await IngestAsync("a/b", 2, firstId: 1);
        await IngestAsync("a%2Fb", 3, firstId: 10);
        Assert.Equal(2, (await ServiceHost.ReadAsync(await _host.GetAsync("/v1/users/a%2Fb/interests"))).GetProperty("events").GetInt32());
        Assert.Equal(3, (await ServiceHost.ReadAsync(await _host.GetAsync("/v1/users/a%252Fb/interests"))).GetProperty("events").GetInt32());
        HttpResponseMessage missing = await _host.GetAsync("/v1/users/c%2Fd/interests");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("user 'c/d'", (await ServiceHost.ReadAsync(missing)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ids_are_limited_to_128_Unicode_characters_not_UTF16_units()
    {
        Assert.Equal(256, Emoji128.Length);
        await IngestAsync(Emoji128, 1);

        HttpResponseMessage r = await _host.PostAsync("/v1/events", new { events = new[] { new { event_id = 99, user = Emoji128 + "😀", item = "i", timestamp = 1_700_000_000, rating = 4 } } });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string message = (await ServiceHost.ReadAsync(r)).GetProperty("errors").GetProperty("events[0].user")[0].GetString()!;
        Assert.Equal("has 129 Unicode characters: at most 128 are allowed", message);
    }

    [Theory]
    [InlineData("""{"event_id":1,"user":"   ","item":"i","timestamp":1700000000,"rating":4}""", "events[0].user")]
    [InlineData("""{"event_id":1,"user":"a\u0000b","item":"i","timestamp":1700000000,"rating":4}""", "events[0].user")]
    [InlineData("""{"event_id":1,"user":"\ud800","item":"i","timestamp":1700000000,"rating":4}""", "events[0].user")]
    [InlineData("""{"event_id":1,"user":"u","item":"\udc00x","timestamp":1700000000,"rating":4}""", "events[0].item")]
    public async Task Blank_control_and_broken_Unicode_ids_are_refused(string ev, string field)
    {
        HttpResponseMessage r = await _host.PostAsync("/v1/events", $$"""{"events":[{{ev}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.True((await ServiceHost.ReadAsync(r)).GetProperty("errors").TryGetProperty(field, out _));
    }

    /// <summary>A rank model that scores every candidate with the length of the history it was given.</summary>
    private sealed class HistoryCountModel : IRankModel
    {
        public string ModelName => "history-count";

        public int? FusionInputSize => null;

        public int HistoryWindow => 50;

        public int MaxPartitions => 0;

        public void UpsertItem(string itemId, IReadOnlyList<string> categories)
        {
        }

        public float[] Score(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions) =>
            [.. candidates.Select(_ => (float)history.Count)];

        public Task<float[]> ScoreAsync(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions, CancellationToken cancellationToken) =>
            Task.FromResult(Score(user, history, candidates, partitions));

        public void Dispose()
        {
        }
    }
}
