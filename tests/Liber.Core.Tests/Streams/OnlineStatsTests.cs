using Liber.Core.Data;
using Liber.Core.Streams;

namespace Liber.Core.Tests.Streams;

/// <summary>Serving's counters give the training rows: online = offline for the point-in-time statistics.</summary>
public sealed class OnlineStatsTests
{
    [Fact]
    public void Counting_every_event_before_a_sample_gives_the_samples_training_row()
    {
        Dataset ds = Liber.Core.Synthetic.SyntheticWorld.Generate(new Liber.Core.Synthetic.SyntheticOptions { Seed = 4, Users = 12, Items = 60, MeanEvents = 30 }).Dataset;
        var streams = UserStreams.Build(ds);
        PointInTimeStats offline = PointInTimeStats.Compute(streams, threshold: 4);
        int compared = 0;
        for (int row = 0; row < streams.EventCount; row += 7)
        {
            int u = streams.UserOfRow(row);
            long t = streams.Timestamps[row];
            if (row > streams.Offsets[u] && streams.Timestamps[row - 1] == t)
            {
                continue; // an earlier event of the same user in the same second counts for the user only offline: not this comparison
            }

            var online = new OnlineStats(ds.Scale, threshold: 4);
            for (int r = 0; r < streams.EventCount; r++)
            {
                if (streams.Timestamps[r] < t)
                {
                    int ru = streams.UserOfRow(r);
                    online.Add(ds.Users.External(ru), ds.Items.External(streams.Items[r]), ds.Catalog[streams.Items[r]].Categories, streams.Ratings[r]);
                }
            }

            float[] got = online.Row(ds.Users.External(u), ds.Items.External(streams.Items[row]), ds.Catalog[streams.Items[row]].Categories);
            float[] want = offline.Row(row).ToArray();
            for (int c = 0; c < PointInTimeStats.Width; c++)
            {
                Approx.Equal(want[c], got[c], what: $"row {row} column {PointInTimeStats.Names[c]}");
            }

            compared++;
        }

        Assert.True(compared > 20, $"{compared} rows compared");
        Assert.Contains(Enumerable.Range(0, streams.EventCount), r => offline.Row(r)[3] > 0); // the category columns were exercised
    }

    [Fact]
    public void An_unknown_user_and_item_read_the_priors()
    {
        var online = new OnlineStats(RatingScale.FiveStars, threshold: 4);
        online.Add("u1", "i1", ["Drama"], 5);
        online.Add("u2", "i1", ["drama"], 2);
        float[] row = online.Row("nobody", "new-item", ["Drama"]);
        Assert.Equal(0f, row[0]);
        Assert.Equal(0f, row[3]);
        Assert.Equal(0f, row[5]);
        Approx.Equal(0.5, row[1]); // the global positive rate: 1 of 2
        float[] u1 = online.Row("u1", "i1", ["DRAMA"]);
        Assert.True(u1[3] > 0, "categories match case-insensitively");
        Assert.Equal(2, online.Events);
    }
}
