using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Interests.Template;

namespace Liber.Interests.Tests;

/// <summary>The implicit-feedback wording (Last.fm): styles, artists, discovery; no rating words.</summary>
public sealed class TemplateImplicitTests
{
    /// <summary>One listener: rock, rock, indie (new), rock, then jazz, jazz, blues (new), jazz, jazz, electronic (new); every event a positive.</summary>
    private static UserStreams Listener(RatingScale? scale = null)
    {
        string[] styles = ["rock", "rock", "indie", "rock", "jazz", "jazz", "blues", "jazz", "jazz", "electronic"];
        var users = new IdMap();
        var items = new IdMap();
        var catalog = new List<Item>();
        var events = new EventTable();
        int u = users.GetOrAdd("listener");
        for (int i = 0; i < styles.Length; i++)
        {
            int id = items.GetOrAdd($"a{i}");
            catalog.Add(new Item(id, $"a{i}", $"Artist {i}", null, [styles[i]], [], null));
            events.Add(u, id, 1_200_000_000 + (i * 86_400), 1f);
        }

        return UserStreams.Build(new Dataset("implicit", "test", users, items, events, catalog, catalog.Count, [], scale ?? new RatingScale(1, 1, 1), new LoadReport()));
    }

    [Fact]
    public void Discovery_counts_events_whose_styles_were_all_new_to_the_user()
    {
        UserStreams s = Listener();
        Assert.Equal(0.5, RangeStats.Of(s, 0, 0, 3).DiscoveryShare!.Value, 6); // rock (new), rock, indie (new), rock
        Assert.Equal(0.4, RangeStats.Of(s, 0, 5, 9).DiscoveryShare!.Value, 6); // jazz was heard at 4: jazz, blues (new), jazz, jazz, electronic (new)
        Assert.Null(RangeStats.Of(Listener(RatingScale.FiveStars), 0, 0, 3).DiscoveryShare);
    }

    [Fact]
    public void An_implicit_music_summary_names_styles_artists_and_discovery_without_ratings()
    {
        var writer = new TemplateInterestWriter(Listener(), "music");
        Assert.True(writer.IsImplicit);
        string text = writer.Summarize(0, 4, 9);
        Assert.StartsWith(TemplateInterestWriter.Label, text, StringComparison.Ordinal);
        Assert.Contains("Listening summary of 6 artists", text, StringComparison.Ordinal);
        Assert.Contains("Main styles: jazz (mostly)", text, StringComparison.Ordinal);
        Assert.Contains("Discovery:", text, StringComparison.Ordinal);
        Assert.Contains("Artists: \"Artist 4\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("rating", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("liked", text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(text, new TemplateInterestWriter(Listener(), "music").Summarize(0, 4, 9));
        Assert.StartsWith(TemplateInterestWriter.LabelV2, new TemplateInterestWriter(Listener(), "music", TemplateInterestWriter.VersionV2).Summarize(0, 4, 9), StringComparison.Ordinal);
    }

    [Fact]
    public void An_implicit_shift_says_which_styles_rose_and_whether_the_user_explores_more()
    {
        string shift = new TemplateInterestWriter(Listener(), "music").Shift(0, 0, 3, 4, 9);
        Assert.Contains("More jazz", shift, StringComparison.Ordinal);
        Assert.Contains("Less rock", shift, StringComparison.Ordinal);
        Assert.Contains("Main style moved from rock to jazz.", shift, StringComparison.Ordinal);
        Assert.DoesNotContain("rating", shift, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Rated_data_keeps_the_rated_wording()
    {
        string text = new TemplateInterestWriter(Listener(RatingScale.FiveStars), "music").Summarize(0, 0, 9);
        Assert.Contains("Ratings: mean", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Discovery", text, StringComparison.Ordinal);
    }
}
