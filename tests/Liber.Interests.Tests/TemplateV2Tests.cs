using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Interests.Template;

namespace Liber.Interests.Tests;

/// <summary>template-v2: words for an encoder, deterministic, labelled.</summary>
public sealed class TemplateV2Tests
{
    private static readonly World W = World.Shared;

    /// <summary>One user: six loved dramas, then four disliked westerns.</summary>
    private static UserStreams DramaThenWesterns()
    {
        var users = new IdMap();
        var items = new IdMap();
        var catalog = new List<Item>();
        var events = new EventTable();
        int u = users.GetOrAdd("u");
        for (int i = 0; i < 10; i++)
        {
            bool drama = i < 6;
            int id = items.GetOrAdd($"m{i}");
            catalog.Add(new Item(id, $"m{i}", drama ? $"Drama {i}" : $"Western {i}", drama ? 1994 : 1965, [drama ? "Drama" : "Western"], [], null));
            events.Add(u, id, 1_000_000 + (i * 86_400), drama ? 5 : 1);
        }

        return UserStreams.Build(new Dataset("v2", "test", users, items, events, catalog, catalog.Count, [], RatingScale.FiveStars, new LoadReport()));
    }

    [Fact]
    public void A_summary_says_in_words_what_was_loved_and_what_was_disliked()
    {
        var writer = new TemplateInterestWriter(DramaThenWesterns(), "movies", TemplateInterestWriter.VersionV2);
        string text = writer.Summarize(0, 0, 9);
        Assert.StartsWith(TemplateInterestWriter.LabelV2, text, StringComparison.Ordinal);
        Assert.Contains("Mostly drama movies, nearly all loved.", text, StringComparison.Ordinal);
        Assert.Contains("Often western movies, disliked.", text, StringComparison.Ordinal);
        Assert.Contains("Loved: Drama 0, Drama 1, Drama 2, Drama 3.", text, StringComparison.Ordinal);
        Assert.Contains("Disliked: Western 6, Western 7, Western 8.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("%", text, StringComparison.Ordinal);
        Assert.DoesNotContain("mean", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shift_uses_change_words()
    {
        var writer = new TemplateInterestWriter(DramaThenWesterns(), "movies", TemplateInterestWriter.VersionV2);
        string shift = writer.Shift(0, 0, 4, 5, 9);
        Assert.StartsWith(TemplateInterestWriter.LabelV2, shift, StringComparison.Ordinal);
        Assert.Contains("Moved toward western.", shift, StringComparison.Ordinal);
        Assert.Contains("Moved away from drama.", shift, StringComparison.Ordinal);
        Assert.Contains("Likes much less than before.", shift, StringComparison.Ordinal);
    }

    [Fact]
    public void Texts_are_deterministic_and_v1_is_unchanged()
    {
        Partition p = W.Partitions.Of(3)[1], q = W.Partitions.Of(3)[2];
        var a = new TemplateInterestWriter(W.Streams, "movies", TemplateInterestWriter.VersionV2);
        var b = new TemplateInterestWriter(W.Streams, "movies", TemplateInterestWriter.VersionV2);
        Assert.Equal(a.Summarize(3, q.Start, q.End), b.Summarize(3, q.Start, q.End));
        Assert.Equal(a.Shift(3, p.Start, p.End, q.Start, q.End), b.Shift(3, p.Start, p.End, q.Start, q.End));
        Assert.StartsWith(TemplateInterestWriter.Label, new TemplateInterestWriter(W.Streams).Summarize(3, q.Start, q.End), StringComparison.Ordinal);
        Assert.NotEqual(a.Summarize(3, q.Start, q.End), a.Summarize(4, W.Partitions.Of(4)[2].Start, W.Partitions.Of(4)[2].End));
        Assert.Contains("template-v3", Assert.Throws<ArgumentException>(() => new TemplateInterestWriter(W.Streams, "movies", "template-v3")).Message, StringComparison.Ordinal);
    }
}
