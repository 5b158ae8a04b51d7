using Liber.Core.Data;

namespace Liber.Core.Tests.Readers;

/// <summary>Regressions for bugs found in review: each failed before its fix.</summary>
public sealed class CsvRegressionTests
{
    private const string Ratings = "userId,movieId,rating,timestamp\n1,1,4.0,100\n1,40,3.0,101\n";

    [Fact]
    public void A_stray_quote_is_blamed_on_its_own_row_and_the_next_row_survives()
    {
        using var dir = new TempDir();
        dir.Write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n2,Bad \"quote\" here (1999),Drama\n40,Heat (1995),Action\n");
        dir.Write("ratings.csv", Ratings);

        DataFormatException e = dir.LoadFails("movielens-latest");
        Assert.Contains("movies.csv:3", e.Message, StringComparison.Ordinal);
        Assert.Contains("Bad \"quote\" here", e.Message, StringComparison.Ordinal);

        Dataset ds = dir.Load("movielens-latest", BadRowPolicy.Skip);
        Assert.Equal(["1", "40"], ds.Catalog.Take(ds.CatalogItems).Select(i => i.ExternalId));
        Assert.Equal(1, ds.Report.BadRowsSkipped);
    }

    [Fact]
    public void A_record_spanning_lines_is_reported_at_its_first_line()
    {
        using var dir = new TempDir();
        dir.Write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n2,\"Two\nLines (1995)\",Drama,extra\n40,Heat (1995),Action\n");
        dir.Write("ratings.csv", Ratings);

        DataFormatException e = dir.LoadFails("movielens-latest");
        Assert.Contains("movies.csv:3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_null_column_in_the_mapping_names_the_key()
    {
        using var dir = new TempDir();
        dir.Write("events.csv", "user_id,item_id,timestamp,rating\nu,a,100,4\n");
        dir.Write("liber-csv.json", "{\"events\":{\"user\":null}}");

        DataFormatException e = dir.LoadFails("csv");
        Assert.Contains("events.user", e.Message, StringComparison.Ordinal);
        Assert.Contains("liber-csv.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Off_step_ratings_are_outside_a_whole_star_scale()
    {
        using var dir = new TempDir();
        dir.WriteLatin1("u.item", "1|Toy Story (1995)|01-Jan-1995||url|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
        dir.Write("u.data", "1\t1\t4\t100\n2\t1\t3.5\t101\n");

        DataFormatException e = dir.LoadFails("movielens-100k");
        Assert.Contains("u.data:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("steps of 1", e.Message, StringComparison.Ordinal);
        Assert.True(RatingScale.HalfStars.Contains(3.5f));
        Assert.False(RatingScale.HalfStars.Contains(4.2f));
    }

    [Fact]
    public void Negative_milliseconds_are_before_1970_and_rejected()
    {
        using var dir = new TempDir();
        dir.Write("events.csv", "user_id,item_id,timestamp,rating\nu,a,-500,4\nu,b,1500,4\n");
        dir.Write("liber-csv.json", "{\"events\":{\"timestamp_format\":\"unix_ms\"}}");

        DataFormatException e = dir.LoadFails("csv");
        Assert.Contains("events.csv:2", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, dir.Load("csv", BadRowPolicy.Skip).Events.Count);
    }
}
