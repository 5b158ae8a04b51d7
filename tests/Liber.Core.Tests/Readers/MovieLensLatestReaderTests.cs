using Liber.Core.Data;

namespace Liber.Core.Tests.Readers;

public sealed class MovieLensLatestReaderTests : IDisposable
{
    private const string Kind = "movielens-latest";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    internal const string Movies =
        "movieId,title,genres\n" +
        "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n" +
        "11,\"American President, The (1995)\",Comedy|Drama|Romance\n" +
        "20,\"Film \"\"Quoted\"\" Title (2000)\",Drama\n" +
        "30,Black Mirror,(no genres listed)\n" +
        "40,Amélie (2001),Comedy|Romance\n";

    internal static void WriteValid(TempDir dir)
    {
        dir.Write("movies.csv", Movies);
        dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,11,3.5,964981247\n2,40,0.5,1445714994\n2,1,5.0,1445714995\n");
    }

    [Fact]
    public void Ratings_csv_is_read_in_source_order_with_half_stars()
    {
        WriteValid(_dir);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(4, ds.Events.Count);
        Assert.Equal(["1", "1", "2", "2"], Enumerable.Range(0, 4).Select(i => ds.Users.External(ds.Events.Users[i])));
        Assert.Equal(["1", "11", "40", "1"], Enumerable.Range(0, 4).Select(i => ds.Items.External(ds.Events.Items[i])));
        Assert.Equal([4f, 3.5f, 0.5f, 5f], ds.Events.Ratings.ToArray());
        Assert.Equal([964982703L, 964981247L, 1445714994L, 1445714995L], ds.Events.Timestamps.ToArray());
        Assert.Equal(RatingScale.HalfStars, ds.Scale);
        Assert.All(ds.Profiles, Assert.Null);
        Assert.Equal(2, ds.Profiles.Count);
    }

    [Fact]
    public void Movies_csv_follows_RFC4180_quoting()
    {
        WriteValid(_dir);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(5, ds.CatalogItems);
        Assert.Equal(["1", "11", "20", "30", "40"], ds.Catalog.Select(i => i.ExternalId));
        Assert.Equal(("Toy Story", 1995), (ds.Catalog[0].Title, ds.Catalog[0].Year));
        Assert.Equal(("American President, The", 1995), (ds.Catalog[1].Title, ds.Catalog[1].Year));
        Assert.Equal(["Comedy", "Drama", "Romance"], ds.Catalog[1].Categories);
        Assert.Equal(("Film \"Quoted\" Title", 2000), (ds.Catalog[2].Title, ds.Catalog[2].Year));
        Assert.Equal(("Black Mirror", (int?)null), (ds.Catalog[3].Title, ds.Catalog[3].Year));
        Assert.Empty(ds.Catalog[3].Categories);
        Assert.Equal("Amélie", ds.Catalog[4].Title);
    }

    [Fact]
    public void Crlf_line_endings_and_a_UTF8_BOM_are_accepted()
    {
        byte[] bom = [0xEF, 0xBB, 0xBF];
        _dir.WriteBytes("movies.csv", [.. bom, .. System.Text.Encoding.UTF8.GetBytes(Movies.Replace("\n", "\r\n", StringComparison.Ordinal))]);
        _dir.WriteBytes("ratings.csv", [.. bom, .. System.Text.Encoding.UTF8.GetBytes("userId,movieId,rating,timestamp\r\n1,11,4.5,964982703\r\n")]);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(5, ds.CatalogItems);
        Assert.Equal("American President, The", ds.Catalog[1].Title);
        Assert.Equal(["Comedy", "Drama", "Romance"], ds.Catalog[1].Categories);
        Assert.Equal(1, ds.Events.Count);
        Assert.Equal(4.5f, ds.Events.Ratings[0]);
    }

    [Fact]
    public void Tags_csv_is_joined_onto_items()
    {
        WriteValid(_dir);
        _dir.Write("tags.csv",
            "userId,movieId,tag,timestamp\n" +
            "2,1,pixar,1445714994\n" +
            "2,11,\"politics, romance\",1445714996\n" +
            "3,1,Pixar,1445714992\n" +
            "3,1,toys,1445714990\n" +
            "4,1,\"the \"\"best\"\"\",1445714991\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(["pixar", "toys", "the \"best\""], ds.Catalog[0].Tags);
        Assert.Equal(["politics, romance"], ds.Catalog[1].Tags);
        Assert.Empty(ds.Catalog[2].Tags);
        Assert.Equal(4, ds.Events.Count);
    }

    [Fact]
    public void A_tag_for_an_unknown_movie_fails_or_is_skipped()
    {
        WriteValid(_dir);
        string path = _dir.Write("tags.csv", "userId,movieId,tag,timestamp\n2,1,pixar,1\n2,999,ghost,2\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:3", e.Message, StringComparison.Ordinal);
        Assert.Contains("999", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(1, ds.Report.SkippedByReason["unknown item id"]);
        Assert.Equal(["pixar"], ds.Catalog[0].Tags);
    }

    [Fact]
    public void A_quoted_tag_spanning_lines_keeps_later_line_numbers_right()
    {
        WriteValid(_dir);
        string path = _dir.Write("tags.csv", "userId,movieId,tag,timestamp\n2,1,\"two\nlines\",1\n2,1,toys,2\n2,999,ghost,3\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:5:", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(["two\nlines", "toys"], ds.Catalog[0].Tags);
        Assert.Equal(1, ds.Report.SkippedByReason["unknown item id"]);
    }

    [Fact]
    public void A_wrong_tags_header_is_an_error()
    {
        WriteValid(_dir);
        string path = _dir.Write("tags.csv", "user,movie,tag,time\n2,1,pixar,1\n");

        DataFormatException e = _dir.LoadFails(Kind, BadRowPolicy.Skip);
        Assert.Contains($"{path}:1", e.Message, StringComparison.Ordinal);
        Assert.Contains("user,movie,tag,time", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_movies_row_with_an_unquoted_comma_fails_or_is_skipped()
    {
        string path = _dir.Write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n11,American President, The (1995),Drama\n40,Heat (1995),Action\n");
        _dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,40,3.0,964982704\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:3", e.Message, StringComparison.Ordinal);
        Assert.Contains("American President, The (1995)", e.Message, StringComparison.Ordinal);
        Assert.Contains("found 4", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(["1", "40"], ds.Catalog.Select(i => i.ExternalId));
        Assert.Equal(2, ds.Events.Count);
        Assert.Equal(1, ds.Report.SkippedByReason["malformed line"]);
    }

    [Fact]
    public void A_duplicate_movie_id_fails_or_is_skipped()
    {
        string path = _dir.Write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n1,Toy Story Again (1995),Comedy\n");
        _dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:3", e.Message, StringComparison.Ordinal);
        Assert.Contains("Toy Story Again", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(1, ds.CatalogItems);
        Assert.Equal("Toy Story", ds.Catalog[0].Title);
        Assert.Equal(1, ds.Report.SkippedByReason["duplicate item id"]);
    }

    [Fact]
    public void A_wrong_movies_header_is_an_error()
    {
        string path = _dir.Write("movies.csv", "id,name,genres\n1,Toy Story (1995),Comedy\n");
        _dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n");

        DataFormatException e = _dir.LoadFails(Kind, BadRowPolicy.Skip);
        Assert.Contains($"{path}:1", e.Message, StringComparison.Ordinal);
        Assert.Contains("id,name,genres", e.Message, StringComparison.Ordinal);
    }
}
