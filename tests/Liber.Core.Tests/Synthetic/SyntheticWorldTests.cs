using Liber.Core.Streams;
using Liber.Core.Synthetic;

namespace Liber.Core.Tests.Synthetic;

public sealed class SyntheticWorldTests
{
    private static readonly SyntheticOptions Small = new() { Users = 60, Items = 400, MeanEvents = 200 };

    [Fact]
    public void Same_seed_gives_the_same_world_and_another_seed_another()
    {
        var a = SyntheticWorld.Generate(Small);
        var b = SyntheticWorld.Generate(Small);
        var c = SyntheticWorld.Generate(Small with { Seed = 43 });

        Assert.Equal(a.Dataset.Events.Count, b.Dataset.Events.Count);
        Assert.True(a.Dataset.Events.Items.SequenceEqual(b.Dataset.Events.Items));
        Assert.True(a.Dataset.Events.Timestamps.SequenceEqual(b.Dataset.Events.Timestamps));
        Assert.True(a.Dataset.Events.Ratings.SequenceEqual(b.Dataset.Events.Ratings));
        Assert.Equal(a.RegimeOfEvent, b.RegimeOfEvent);
        Assert.Equal(a.Dataset.Catalog.Select(i => i.Title), b.Dataset.Catalog.Select(i => i.Title));
        Assert.False(a.Dataset.Events.Items.SequenceEqual(c.Dataset.Events.Items));
    }

    [Fact]
    public void Items_have_readable_metadata()
    {
        var w = SyntheticWorld.Generate(Small);
        Assert.Equal(400, w.Dataset.CatalogItems);
        Assert.Equal(400, w.Dataset.Catalog.Select(i => i.Title).Distinct().Count());
        Assert.All(w.Dataset.Catalog, i =>
        {
            Assert.Matches("^[A-Z][A-Za-z ]+( [0-9]+)?$", i.Title);
            Assert.InRange(i.Year ?? 0, 1950, 2029);
            Assert.InRange(i.Categories.Count, 1, 3);
            Assert.All(i.Categories, g => Assert.Contains(g, SyntheticWorld.Genres));
            Assert.Contains(i.Tags[0], SyntheticWorld.Moods);
            Assert.False(string.IsNullOrWhiteSpace(i.Text));
        });
    }

    [Fact]
    public void Histories_are_lifelong_sessions_with_regime_switches()
    {
        var w = SyntheticWorld.Generate(Small);
        var streams = UserStreams.Build(w.Dataset);
        Assert.Equal(w.Dataset.Events.Count, w.RegimeOfEvent.Count);
        Assert.Equal(0, streams.DuplicatesDropped);
        int switches = 0;
        for (int u = 0; u < streams.UserCount; u++)
        {
            int n = streams.Length(u);
            Assert.InRange(n, 100, 300);
            int[] regimes = streams.Stream(u).Select(e => w.RegimeOfEvent[(int)e.Position]).ToArray();
            Assert.All(regimes, r => Assert.Equal(u, w.Regimes[r].User));
            switches += regimes.Zip(regimes.Skip(1)).Count(p => p.First != p.Second);
            long[] ts = streams.Stream(u).Select(e => e.Timestamp).ToArray();
            Assert.True(ts.Zip(ts.Skip(1)).All(p => p.Second >= p.First));
            // Sessions: most gaps are minutes, some are hours or days.
            long[] gaps = ts.Zip(ts.Skip(1)).Select(p => p.Second - p.First).ToArray();
            Assert.Contains(gaps, g => g < 1000);
            Assert.Contains(gaps, g => g > 3600);
        }

        // About one switch every 70 events on average: 60 users * 200 events / 70 is about 170.
        Assert.InRange(switches, 80, 300);
    }

    [Fact]
    public void Ratings_depend_on_the_match_with_the_current_regime()
    {
        var w = SyntheticWorld.Generate(Small);
        var ds = w.Dataset;
        double inSum = 0, outSum = 0;
        int inN = 0, outN = 0, positives = 0;
        for (int p = 0; p < ds.Events.Count; p++)
        {
            var e = ds.Events[p];
            var regime = w.Regimes[w.RegimeOfEvent[p]];
            bool match = ds.Catalog[e.Item].Categories.Intersect(regime.Genres).Any();
            (inSum, inN, outSum, outN) = match ? (inSum + e.Rating, inN + 1, outSum, outN) : (inSum, inN, outSum + e.Rating, outN + 1);
            positives += e.Rating >= 4 ? 1 : 0;
        }

        Assert.True(inSum / inN > outSum / outN + 0.5, $"in-regime mean {inSum / inN:F2}, out {outSum / outN:F2}");
        Assert.InRange((double)positives / ds.Events.Count, 0.25, 0.6);
        Assert.True(inN > outN, "most events should follow the current regime");
    }

    [Fact]
    public void Invalid_options_are_refused()
    {
        Assert.Throws<ArgumentException>(() => SyntheticWorld.Generate(new SyntheticOptions { Users = 0 }));
        Assert.Throws<ArgumentException>(() => SyntheticWorld.Generate(new SyntheticOptions { MeanRegimeLength = 5 }));
    }
}
