using Liber.Core.Data;
using Liber.Core.Readers;

namespace Liber.Core.Tests.Readers;

/// <summary>The real MovieLens files under ../shared/datasets; reported skipped when they are absent.</summary>
public sealed class RealDataTests
{
    private static int CountAtLeast(Dataset ds, float rating)
    {
        int n = 0;
        foreach (float r in ds.Events.Ratings)
        {
            if (r >= rating)
            {
                n++;
            }
        }

        return n;
    }

    [RealDataFact("ml-100k")]
    public void MovieLens_100K_loads_with_the_published_counts()
    {
        Dataset ds = DatasetReaders.Load("movielens-100k", new DatasetRequest(RealData.Require("ml-100k")));

        Assert.Equal(100_000, ds.Events.Count);
        Assert.Equal(943, ds.Users.Count);
        Assert.Equal(1_682, ds.CatalogItems);
        Assert.Equal(1_682, ds.Catalog.Count);
        Assert.Equal(55_375, CountAtLeast(ds, 4));
        Assert.Equal(0, ds.Report.BadRowsSkipped);

        // First line of u.data: 196 242 3 881250949.
        Assert.Equal("196", ds.Users.External(ds.Events.Users[0]));
        Assert.Equal("242", ds.Items.External(ds.Events.Items[0]));
        Assert.Equal(3f, ds.Events.Ratings[0]);
        Assert.Equal(881250949L, ds.Events.Timestamps[0]);

        Item toyStory = ds.Catalog[0];
        Assert.Equal(("1", "Toy Story", (int?)1995), (toyStory.ExternalId, toyStory.Title, toyStory.Year));
        Assert.Equal(["Animation", "Children's", "Comedy"], toyStory.Categories);
        Assert.True(ds.Items.TryGet(267, out int unknown));
        Assert.Empty(ds.Catalog[unknown].Categories);

        Assert.All(ds.Profiles, p => Assert.NotNull(p));
        Assert.True(ds.Users.TryGet(1, out int u1));
        UserProfile p1 = ds.Profiles[u1]!;
        Assert.Equal((24, "18-24", "M", "technician", "85711"), (p1.Age, p1.AgeGroup, p1.Gender, p1.Occupation, p1.ZipCode));
        // u.item is Latin-1: accented titles decode.
        Assert.Contains(ds.Catalog, i => i.Title.Contains('é', StringComparison.Ordinal));
        Assert.DoesNotContain(ds.Catalog, i => i.Title.Contains('\uFFFD', StringComparison.Ordinal));
    }

    [RealDataFact("ml-latest-small")]
    public void MovieLens_latest_small_loads_with_the_published_counts()
    {
        Dataset ds = DatasetReaders.Load("movielens-latest", new DatasetRequest(RealData.Require("ml-latest-small")));

        Assert.Equal(100_836, ds.Events.Count);
        Assert.Equal(610, ds.Users.Count);
        Assert.Equal(9_742, ds.CatalogItems);
        Assert.Equal(9_742, ds.Catalog.Count);
        var rated = new HashSet<int>();
        foreach (int item in ds.Events.Items)
        {
            rated.Add(item);
        }

        Assert.Equal(9_724, rated.Count);
        Assert.Equal(48_580, CountAtLeast(ds, 4));
        Assert.Equal(0, ds.Report.BadRowsSkipped);
        Assert.Equal(RatingScale.HalfStars, ds.Scale);

        Assert.True(ds.Items.TryGet(11, out int m11));
        Assert.Equal(("American President, The", (int?)1995), (ds.Catalog[m11].Title, ds.Catalog[m11].Year));
        Assert.Equal(["Comedy", "Drama", "Romance"], ds.Catalog[m11].Categories);

        Assert.Contains(ds.Catalog, i => i.Tags.Count > 0);
        // Step Brothers (60756): funny x3, will ferrell x3, then Highly quotable and comedy once each.
        Assert.True(ds.Items.TryGet(60756, out int stepBrothers));
        Assert.Equal(["funny", "will ferrell", "Highly quotable", "comedy"], ds.Catalog[stepBrothers].Tags);
    }
}
