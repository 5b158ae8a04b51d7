using Liber.Core.Partitioning;
using Liber.Core.Synthetic;
using Liber.Interests.Template;

namespace Liber.Interests.Tests;

public sealed class TemplateWriterTests
{
    private static readonly World W = World.Shared;

    /// <summary>The ground-truth regime of a partition when at least 80% of its events share one, else null.</summary>
    private static Regime? PureRegime(Partition p)
    {
        var regimes = p.EventIds.Select(id => W.Synthetic.RegimeOfEvent[(int)id]).GroupBy(r => r).OrderByDescending(g => g.Count()).First();
        return regimes.Count() >= 0.8 * p.Count ? W.Synthetic.Regimes[regimes.Key] : null;
    }

    private static string Segment(string text, string head)
    {
        int i = text.IndexOf(head, StringComparison.Ordinal);
        Assert.True(i >= 0, $"'{head}' missing in: {text}");
        int j = text.IndexOf(". ", i, StringComparison.Ordinal);
        return text[(i + head.Length)..(j < 0 ? text.Length : j)];
    }

    private static List<string> Named(string segment) =>
        segment.Split(", ").Select(s => s.Split(' ')[0]).ToList();

    [Fact]
    public void Summaries_name_the_ground_truth_dominant_genres()
    {
        var writer = new TemplateInterestWriter(W.Streams);
        int pure = 0, first = 0, both = 0, intruders = 0;
        foreach (Partition p in W.Partitions.All)
        {
            if (PureRegime(p) is not Regime r)
            {
                continue;
            }

            string text = writer.Summarize(p.User, p.Start, p.End);
            Assert.StartsWith(TemplateInterestWriter.Label, text, StringComparison.Ordinal);
            var named = Named(Segment(text, "Dominant genres: "));
            pure++;
            first += named.Contains(r.Genres[0]) ? 1 : 0;
            both += named.Contains(r.Genres[0]) && named.Contains(r.Genres[1]) ? 1 : 0;
            // The top-named genre should almost never be outside the regime.
            intruders += r.Genres.Contains(named[0]) ? 0 : 1;
        }

        Console.WriteLine($"template summaries: {pure} pure partitions, first {first}, both {both}, intruders {intruders}");
        Assert.True(pure >= 50, $"only {pure} pure partitions in the fixture");
        Assert.True(first >= 0.9 * pure, $"strongest regime genre named in {first}/{pure}");
        Assert.True(both >= 0.75 * pure, $"both regime genres named in {both}/{pure}");
        Assert.True(intruders <= 0.08 * pure, $"top genre outside the regime in {intruders}/{pure}");
    }

    [Fact]
    public void Shifts_name_the_genres_that_rose_and_fell()
    {
        var writer = new TemplateInterestWriter(W.Streams);
        int changes = 0, rose = 0, fell = 0;
        for (int u = 0; u < W.Partitions.UserCount; u++)
        {
            var ps = W.Partitions.Of(u);
            for (int k = 1; k < ps.Length; k++)
            {
                if (PureRegime(ps[k - 1]) is not Regime before || PureRegime(ps[k]) is not Regime after || before.Id == after.Id)
                {
                    continue;
                }

                string shift = writer.Shift(u, ps[k - 1].Start, ps[k - 1].End, ps[k].Start, ps[k].End);
                Assert.StartsWith(TemplateInterestWriter.Label, shift, StringComparison.Ordinal);
                var rising = Named(Segment(shift, "Rising genres: "));
                var falling = Named(Segment(shift, "Falling genres: "));
                changes++;
                if (!before.Genres.Contains(after.Genres[0]))
                {
                    rose += rising.Contains(after.Genres[0]) ? 1 : 0;
                }
                else
                {
                    rose++;
                }

                if (!after.Genres.Contains(before.Genres[0]))
                {
                    fell += falling.Contains(before.Genres[0]) ? 1 : 0;
                }
                else
                {
                    fell++;
                }

                if (!before.Genres.Contains(after.Genres[0]))
                {
                    Assert.DoesNotContain(after.Genres[0], falling);
                }
            }
        }

        Console.WriteLine($"template shifts: {changes} changes, rose {rose}, fell {fell}");
        Assert.True(changes >= 10, $"only {changes} regime changes between pure partitions");
        Assert.True(rose >= 0.9 * changes, $"new regime's main genre named rising in {rose}/{changes}");
        Assert.True(fell >= 0.9 * changes, $"old regime's main genre named falling in {fell}/{changes}");
    }

    [Fact]
    public void Summary_of_an_arbitrary_range_covers_it_and_carries_titles_ratings_and_eras()
    {
        var writer = new TemplateInterestWriter(W.Streams);
        int n = W.Streams.Length(3);
        string whole = writer.Summarize(3, 0, n - 1);
        Assert.Contains($"Interest summary of {n} movies", whole, StringComparison.Ordinal);
        Assert.Contains("Eras: ", whole, StringComparison.Ordinal);
        Assert.Contains("Ratings: mean ", whole, StringComparison.Ordinal);
        // The best-rated item of the range is named among the favourites.
        int row0 = W.Streams.Offsets[3];
        int best = Enumerable.Range(0, n).OrderByDescending(i => W.Streams.Ratings[row0 + i]).ThenBy(i => i).First();
        Assert.Contains(W.Synthetic.Dataset.Catalog[W.Streams.Items[row0 + best]].Title, Segment(whole, "Favourites: "), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Summarize(3, 0, n));
        Assert.Equal(whole, new TemplateInterestWriter(W.Streams).Summarize(3, 0, n - 1));
    }
}
