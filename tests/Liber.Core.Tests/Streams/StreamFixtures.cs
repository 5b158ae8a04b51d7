using Liber.Core.Data;
using Liber.Core.Readers;

namespace Liber.Core.Tests.Streams;

/// <summary>Builds small in-memory data sets from (user, item, timestamp, rating) rows in file order.</summary>
internal static class StreamFixtures
{
    public static Dataset Make(params (long User, long Item, long Ts, float Rating)[] rows)
    {
        var b = new DatasetBuilder("test", "memory", RatingScale.FiveStars, BadRowPolicy.Fail);
        foreach (var (user, item, ts, rating) in rows)
        {
            b.Events.Add(b.Users.GetOrAdd(user), b.EventItem(item), ts, rating);
        }

        return b.Build();
    }

    public static Dataset Random(int seed, int users, int maxEvents, int items = 30, int timeSpread = 50)
    {
        var rng = new Random(seed);
        var rows = new List<(long, long, long, float)>();
        int total = users * maxEvents / 2;
        for (int i = 0; i < total; i++)
        {
            rows.Add((rng.Next(users), rng.Next(items), 1000 + rng.Next(timeSpread), 1 + rng.Next(5)));
        }

        return Make([.. rows]);
    }
}
