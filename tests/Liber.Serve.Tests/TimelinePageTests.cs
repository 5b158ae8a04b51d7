using System.Net;
using System.Text.Json;
using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Interests.Learning;
using PuppeteerSharp;
using Xunit.Abstractions;

namespace Liber.Serve.Tests;

/// <summary>
/// The timeline page (<c>/ui</c>) in headless Chromium (Debian's <c>chromium</c>, installed by .ci/run; never downloaded): the key,
/// a user's partitions, a partition's texts, two candidates ranked and one explained, with a screenshot as an artifact.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class TimelinePageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Evil = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>";
    private ServiceHost _host = null!;
    private Dataset _world = null!;

    /// <summary>The Chromium executable: LIBER_CHROMIUM, else the usual Debian and Chrome paths; null when none exists.</summary>
    public static string? Chromium() =>
        new[] { Environment.GetEnvironmentVariable("LIBER_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    /// <summary>Scores candidates by their position and spreads attention evenly over the partitions it reads.</summary>
    private sealed class FakeModel : IRankModel
    {
        public string ModelName => "fake+liber(attention)";

        public int? FusionInputSize => 384;

        public int HistoryWindow => 20;

        public int MaxPartitions => 32;

        public void UpsertItem(string itemId, IReadOnlyList<string> categories)
        {
        }

        public float[] Score(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions) =>
            [.. candidates.Select((_, i) => 0.25f + (0.5f * i / Math.Max(1, candidates.Count - 1)))];

        public Task<float[]> ScoreAsync(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions, CancellationToken cancellationToken) =>
            Task.FromResult(Score(user, history, candidates, partitions));

        public Task<float[]?> AttentionAsync(string user, IReadOnlyList<(string Item, float Rating)> history, string candidate, IReadOnlyList<(float[] Summary, float[]? Shift)> partitions, float[]? stats, CancellationToken cancellationToken)
        {
            int n = Math.Min(partitions.Count, MaxPartitions);
            return Task.FromResult<float[]?>([.. Enumerable.Repeat(1f / Math.Max(1, n), n)]);
        }

        public void Dispose()
        {
        }
    }

    public async Task InitializeAsync()
    {
        _world = SyntheticWorld.Generate(new SyntheticOptions { Seed = 7, Users = 3, Items = 60, MeanEvents = 30, MeanRegimeLength = 20 }).Dataset;
        _host = await ServiceHost.StartAsync(
            options: d => ServiceHost.Options(d, worker: true) with { Seed = _world, Learn = new LearnOptions { Domain = "movies" }, Encoder = "minilm", CheckpointDirectory = d },
            loader: _ => new FakeModel());

        // Every item also gets a category that is markup: it is the dominant one of every partition, so every summary names it.
        var streams = UserStreams.Build(_world);
        var items = _world.Catalog.Select(i => new { id = i.ExternalId, title = i.Title, categories = i.Categories.Append(Evil).ToArray() }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await _host.PostAsync("/v1/items", new { items })).StatusCode);
        var batch = new List<object>();
        for (int row = 0; row < streams.EventCount; row++)
        {
            int user = streams.UserOfRow(row);
            batch.Add(new { event_id = (long)streams.Positions[row], user = _world.Users.External(user), item = _world.Items.External(streams.Items[row]), timestamp = streams.Timestamps[row], rating = streams.Ratings[row] });
        }

        foreach (var chunk in batch.OrderBy(e => ((dynamic)e).timestamp).Chunk(50))
        {
            Assert.Equal(HttpStatusCode.OK, (await _host.PostAsync("/v1/events", new { events = chunk })).StatusCode);
        }

        await _host.WaitForJobsAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<IBrowser?> LaunchAsync()
    {
        if (Chromium() is not string chromium)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "no Chromium: .ci/run installs Debian's chromium package for this test");
            output.WriteLine("no Chromium found (install Debian's chromium, or set LIBER_CHROMIUM): the browser steps are not run");
            return null;
        }

        return await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true,
            ExecutablePath = chromium,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            Timeout = 60_000,
        });
    }

    private static async Task<T> Js<T>(IPage page, string expression) => await page.EvaluateExpressionAsync<T>(expression);

    [Fact]
    public async Task The_page_shows_a_users_timeline_texts_scores_and_attention_and_escapes_llm_text()
    {
        string user = _world.Users.External(0);
        JsonElement interests = await ServiceHost.ReadAsync(await _host.GetAsync($"/v1/users/{user}/interests"));
        JsonElement[] parts = [.. interests.GetProperty("partitions").EnumerateArray()];
        Assert.True(parts.Length >= 3, $"{parts.Length} partitions");
        Assert.All(parts, p => Assert.True(p.GetProperty("categories").GetArrayLength() > 0));

        await using IBrowser? browser = await LaunchAsync();
        if (browser is null)
        {
            return;
        }

        await using IPage page = await browser.NewPageAsync();
        var dialogs = new List<string>();
        page.Dialog += (_, e) => dialogs.Add(e.Dialog.Message);
        IResponse response = await page.GoToAsync(new Uri(_host.Client.BaseAddress!, "/ui").ToString());
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Contains("script-src 'self'", response.Headers["content-security-policy"], StringComparison.Ordinal);

        // Without a key the page refuses to call the API.
        await page.TypeAsync("#user-id", user);
        await page.ClickAsync("#user-load");
        await page.WaitForFunctionAsync("() => document.getElementById('message').textContent.length > 0");
        Assert.Equal("enter the API key first", await Js<string>(page, "document.getElementById('message').textContent"));
        Assert.True(await Js<bool>(page, "document.getElementById('user').hidden"));

        await page.TypeAsync("#api-key", ServiceHost.Key);
        await page.ClickAsync("#key-save");
        await page.ClickAsync("#user-load");
        await page.WaitForSelectorAsync("#timeline g.part");
        Assert.Equal(parts.Length, await Js<int>(page, "document.querySelectorAll('#timeline g.part').length"));

        // Select a partition: its texts, exactly as the API holds them, as text.
        int number = parts[1].GetProperty("number").GetInt32();
        await page.ClickAsync($"#timeline g.part[data-number='{number}'] rect.frame");
        await page.WaitForFunctionAsync("() => !document.getElementById('detail').hidden");
        Assert.Equal(parts[1].GetProperty("summary").GetString(), await Js<string>(page, "document.getElementById('detail-summary').textContent"));
        Assert.Equal(parts[1].GetProperty("shift").GetString(), await Js<string>(page, "document.getElementById('detail-shift').textContent"));

        // Escaping: a summary quoting the markup title renders as text; nothing of it runs.
        JsonElement evil = parts.First(p => p.GetProperty("summary").GetString()!.Contains("<script>", StringComparison.Ordinal));
        await page.ClickAsync($"#timeline g.part[data-number='{evil.GetProperty("number").GetInt32()}'] rect.frame");
        await page.WaitForFunctionAsync("() => document.getElementById('detail-summary').textContent.includes('<script>')");
        Assert.Equal(evil.GetProperty("summary").GetString(), await Js<string>(page, "document.getElementById('detail-summary').textContent"));
        Assert.Equal(0, await Js<int>(page, "document.querySelectorAll('#detail-summary *').length"));
        Assert.True(await Js<bool>(page, "window.__xss === undefined"));

        // Search the catalog, add two candidates, rank them, explain one.
        await page.TypeAsync("#search", "");
        await page.ClickAsync("#search-go");
        await page.WaitForSelectorAsync("#search-results li button");
        IElementHandle[] add = await page.QuerySelectorAllAsync("#search-results li button");
        await add[0].ClickAsync();
        await add[1].ClickAsync();
        await page.ClickAsync("#rank-go");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#scores tbody tr').length === 2");
        string[] scores = await Js<string[]>(page, "[...document.querySelectorAll('#scores td.score')].map(td => td.textContent)");
        Assert.Equal(["0.2500", "0.7500"], scores);
        await page.ClickAsync("#scores tbody tr button");
        await page.WaitForSelectorAsync("#timeline rect.attention");
        Assert.Equal(parts.Count(p => p.GetProperty("status").GetString() == "done"), await Js<int>(page, "document.querySelectorAll('#timeline rect.attention').length"));

        string dir = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(dir);
        string shot = Path.Combine(dir, "timeline-page.png");
        await page.ScreenshotAsync(shot, new ScreenshotOptions { FullPage = true });
        output.WriteLine($"screenshot: {shot}");
        Assert.True(new FileInfo(shot).Length > 10_000);
        Assert.Empty(dialogs);
    }

    [Fact]
    public async Task The_page_is_served_with_a_strict_policy_and_holds_no_data()
    {
        HttpResponseMessage r = await _host.GetAsync("/ui/", key: null);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        string policy = string.Join(";", r.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        string html = await r.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal); // the only script is app.js, by src
        Assert.Equal(HttpStatusCode.NotFound, (await _host.GetAsync("/ui/secrets.json", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _host.GetAsync("/v1/items?query=a", key: null)).StatusCode);
    }

    [Fact]
    public async Task Explain_gives_the_score_and_the_attention_over_the_done_partitions()
    {
        string user = _world.Users.External(1);
        JsonElement r = await ServiceHost.ReadAsync(await _host.PostAsync("/v1/explain", new { user, item = _world.Items.External(0) }));
        JsonElement[] attention = [.. r.GetProperty("attention").EnumerateArray()];
        Assert.NotEmpty(attention);
        Assert.Equal(1.0, attention.Sum(a => a.GetProperty("weight").GetDouble()), 1e-4);
        Assert.Equal(Enumerable.Range(0, attention.Length), attention.Select(a => a.GetProperty("partition").GetInt32()));
        JsonElement search = await ServiceHost.ReadAsync(await _host.GetAsync("/v1/items?query=drama&limit=3"));
        Assert.InRange(search.GetProperty("items").GetArrayLength(), 1, 3);
        Assert.True(search.GetProperty("total").GetInt32() >= search.GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.GetAsync("/v1/items?limit=0")).StatusCode);
    }
}
