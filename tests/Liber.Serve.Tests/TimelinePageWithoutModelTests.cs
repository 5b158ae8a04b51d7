using System.Net;
using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using PuppeteerSharp;
using Xunit.Abstractions;

namespace Liber.Serve.Tests;

/// <summary>The timeline page of a service started without a checkpoint: the timeline only, and the page says so.</summary>
[Collection(TorchCollection.Name)]
public sealed class TimelinePageWithoutModelTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Without_a_checkpoint_the_page_shows_the_timeline_only_and_says_so()
    {
        Dataset world = SyntheticWorld.Generate(new SyntheticOptions { Seed = 9, Users = 2, Items = 60, MeanEvents = 20, MeanRegimeLength = 20 }).Dataset;
        await using ServiceHost host = await ServiceHost.StartAsync(options: d => ServiceHost.Options(d) with { Seed = world });
        var streams = UserStreams.Build(world);
        var events = Enumerable.Range(0, streams.EventCount).Select(row => new
        {
            event_id = (long)streams.Positions[row],
            user = world.Users.External(streams.UserOfRow(row)),
            item = world.Items.External(streams.Items[row]),
            timestamp = streams.Timestamps[row],
            rating = streams.Ratings[row],
        }).OrderBy(e => e.timestamp).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/v1/events", new { events })).StatusCode);

        if (TimelinePageTests.Chromium() is not string chromium)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "no Chromium: .ci/run installs Debian's chromium package for this test");
            output.WriteLine("no Chromium found: the browser steps are not run");
            return;
        }

        await using IBrowser browser = await Puppeteer.LaunchAsync(new LaunchOptions { Headless = true, ExecutablePath = chromium, Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"], Timeout = 60_000 });
        await using IPage page = await browser.NewPageAsync();
        await page.GoToAsync(new Uri(host.Client.BaseAddress!, "/ui/").ToString());
        await page.WaitForFunctionAsync("() => document.getElementById('health').textContent.length > 0");
        Assert.StartsWith("no checkpoint: timeline only", await page.EvaluateExpressionAsync<string>("document.getElementById('health').textContent"), StringComparison.Ordinal);
        await page.TypeAsync("#api-key", ServiceHost.Key);
        await page.ClickAsync("#key-save");
        await page.TypeAsync("#user-id", world.Users.External(0));
        await page.ClickAsync("#user-load");
        await page.WaitForSelectorAsync("#timeline g.part");

        // Without the nearline worker every partition is pending: drawn hatched, with no texts yet.
        int parts = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#timeline g.part').length");
        Assert.True(parts >= 1);
        Assert.Equal(parts, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#timeline g.part[data-status=pending] rect.pending').length"));
        Assert.StartsWith("No checkpoint is loaded", await page.EvaluateExpressionAsync<string>("document.getElementById('rank-note').textContent"), StringComparison.Ordinal);
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('rank-go').disabled"));
    }
}
