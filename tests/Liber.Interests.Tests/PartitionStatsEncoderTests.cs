using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Interests.Template;

namespace Liber.Interests.Tests;

public sealed class PartitionStatsEncoderTests
{
    /// <summary>One user, four events in two days: a Drama (1994, 5), a Comedy|Drama (1995, 2), a Comedy (2001, 4), a Drama (2003, 1).</summary>
    private static UserStreams Tiny()
    {
        var users = new IdMap();
        var items = new IdMap();
        Item[] catalog =
        [
            new(items.GetOrAdd("a"), "a", "A", 1994, ["Drama"], [], null),
            new(items.GetOrAdd("b"), "b", "B", 1995, ["Comedy", "drama"], [], null),
            new(items.GetOrAdd("c"), "c", "C", 2001, ["Comedy"], [], null),
            new(items.GetOrAdd("d"), "d", "D", 2003, ["Drama"], [], null),
        ];
        var events = new EventTable();
        int u = users.GetOrAdd("u");
        float[] ratings = [5, 2, 4, 1];
        for (int i = 0; i < 4; i++)
        {
            events.Add(u, i, 1_000_000 + (i * 57_600), ratings[i]);               // 4 events over 172,800 s = 2 days
        }

        return UserStreams.Build(new Dataset("tiny", "test", users, items, events, catalog, 4, [], RatingScale.FiveStars, new LoadReport()));
    }

    [Fact]
    public void The_vector_is_the_documented_statistics()
    {
        var encoder = new PartitionStatsEncoder(Tiny(), threshold: 4);
        Assert.Equal(["Drama", "Comedy"], encoder.Categories);
        Assert.Equal(["1990s", "2000s"], encoder.Decades);
        Assert.Equal(2 + 2 + 2 + 4 + 2, encoder.Dimension);
        Assert.Equal(encoder.Dimension, encoder.Names.Count);
        float[] v = encoder.Encode(0, 0, 3);
        float liked = 2f / 4;                                                    // 5 and 4 are liked
        Approx.Equal(
            new[]
            {
                3f / 4, 2f / 4,                                                  // Drama in a, b, d; Comedy in b, c
                (1 + liked) / (3 + 1), (1 + liked) / (2 + 1),                    // liked: Drama a; Comedy c
                2f / 4, 2f / 4,                                                  // 1990s: a, b; 2000s: c, d
                (3f - 1) / 4,                                                    // mean rating 3 on 1-5
                liked,
                MathF.Log(5) / MathF.Log(101),
                MathF.Log(1 + 2) / MathF.Log(101),                               // 4 events / 2 days
                1f / 4, 1f / 4,                                                  // liked and Drama: a; liked and Comedy: c
            },
            v);

        // A sub-range: events 2-3 only (no 1990s item, Comedy liked, Drama not).
        float[] w = encoder.Encode(0, 2, 3);
        Approx.Equal(new[] { 0.5f, 0.5f, 0.5f / 2, 1.5f / 2, 0, 1 }, w.AsSpan(0, 6));
        Approx.Equal(new[] { 0f, 0.5f }, w.AsSpan(10, 2));                       // liked and Drama: none; liked and Comedy: c
    }

    [Fact]
    public void Out_of_range_events_are_refused()
    {
        var encoder = new PartitionStatsEncoder(Tiny(), threshold: 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(0, 2, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(0, 3, 2));
    }
}
