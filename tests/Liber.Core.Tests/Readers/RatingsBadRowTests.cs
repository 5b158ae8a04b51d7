using Liber.Core.Data;

namespace Liber.Core.Tests.Readers;

/// <summary>Bad event rows in u.data, ratings.dat and ratings.csv: Fail names file:line and value; Skip counts by reason.</summary>
public sealed class RatingsBadRowTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertNamesRow(DataFormatException e, string path, int line, string reason, string value)
    {
        Assert.Contains($"{path}:{line}:", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.File);
        Assert.Equal(line, e.Line);
    }

    [Theory]
    [InlineData("10\t2\t5", "malformed line", "found 3")]
    [InlineData("10\t2\t5\t881250949\t7", "malformed line", "found 5")]
    [InlineData("10 2 5 881250949", "malformed line", "separated by tabs, found 1")]
    [InlineData("10\t999\t5\t881250949", "unknown item id", "item 999 is not in u.item")]
    [InlineData("10\t2\tfive\t881250949", "rating is not a number", "\"five\"")]
    [InlineData("10\t2\t6\t881250949", "rating outside the scale", "rating 6 is not on the rating scale [1, 5] in steps of 1")]
    [InlineData("10\t2\t0\t881250949", "rating outside the scale", "rating 0 is not on the rating scale [1, 5]")]
    [InlineData("10\t2\t5\t8812509.49", "timestamp is not an integer", "\"8812509.49\"")]
    [InlineData("10\t2\t5\tyesterday", "timestamp is not an integer", "\"yesterday\"")]
    [InlineData("10\t2\t5\t-1", "timestamp out of range", "timestamp -1 is before 1970")]
    [InlineData("10\t2\t5\t4102444800", "timestamp out of range", "timestamp 4102444800 is after 2100: milliseconds? the file must hold unix seconds")]
    [InlineData("10\t2\t5\t881250949000", "timestamp out of range", "timestamp 881250949000 is after 2100: milliseconds?")]
    [InlineData("u10\t2\t5\t881250949", "user id is not an integer", "\"u10\"")]
    [InlineData("10.5\t2\t5\t881250949", "user id is not an integer", "\"10.5\"")]
    [InlineData("10\ti2\t5\t881250949", "item id is not an integer", "\"i2\"")]
    public void A_bad_u_data_row_fails_or_is_skipped(string badLine, string reason, string value)
    {
        _dir.WriteLatin1("u.item", MovieLens100KReaderTests.ItemLine(1, "Toy Story (1995)", "", 3) + "\n" + MovieLens100KReaderTests.ItemLine(2, "Heat (1995)", "", 1) + "\n");
        string path = _dir.Write("u.data", $"10\t1\t4\t881250000\n{badLine}\n20\t2\t3\t881250001\n");

        DataFormatException e = _dir.LoadFails("movielens-100k");
        AssertNamesRow(e, path, 2, reason, value);
        Assert.Contains($"\"{badLine}\"", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load("movielens-100k", BadRowPolicy.Skip);
        Assert.Equal(2, ds.Events.Count);
        Assert.Equal([4f, 3f], ds.Events.Ratings.ToArray());
        Assert.Equal([881250000L, 881250001L], ds.Events.Timestamps.ToArray());
        Assert.Equal(1, ds.Report.BadRowsSkipped);
        Assert.Equal(reason, Assert.Single(ds.Report.SkippedByReason).Key);
        Assert.Equal(1, ds.Report.SkippedByReason[reason]);
        Assert.Equal($"{path}:2: {badLine}", ds.Report.Examples[reason]);
    }

    [Fact]
    public void Edge_timestamps_0_and_just_below_2100_are_accepted()
    {
        _dir.WriteLatin1("u.item", MovieLens100KReaderTests.ItemLine(1, "Toy Story (1995)", "", 3) + "\n");
        _dir.Write("u.data", "10\t1\t1\t0\n10\t1\t5\t4102444799\n");
        Dataset ds = _dir.Load("movielens-100k");

        Assert.Equal([0L, 4102444799L], ds.Events.Timestamps.ToArray());
        Assert.Equal([1f, 5f], ds.Events.Ratings.ToArray());
    }

    [Fact]
    public void Skip_counts_each_reason_separately()
    {
        _dir.WriteLatin1("u.item", MovieLens100KReaderTests.ItemLine(1, "Toy Story (1995)", "", 3) + "\n");
        _dir.Write("u.data", "10\t1\t4\t881250000\n10\t7\t4\t881250000\n10\t1\t9\t881250000\n\n10\t8\t4\t881250000\n11\t1\t2\t881250002\n10\t1\t9\t1\n");
        Dataset ds = _dir.Load("movielens-100k", BadRowPolicy.Skip);

        Assert.Equal(2, ds.Events.Count);
        Assert.Equal(4, ds.Report.BadRowsSkipped);
        Assert.Equal(2, ds.Report.SkippedByReason["unknown item id"]);
        Assert.Equal(2, ds.Report.SkippedByReason["rating outside the scale"]);
        // The example of a reason is its first occurrence; the blank line 4 is not counted.
        Assert.EndsWith("u.data:2: 10\t7\t4\t881250000", ds.Report.Examples["unknown item id"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1::1::5", "malformed line", "separated by '::', found 3")]
    [InlineData("1::1::5::978300760::x", "malformed line", "found 5")]
    [InlineData("1::9::5::978300760", "unknown item id", "item 9 is not in movies.dat")]
    [InlineData("1::1::5.5::978300760", "rating outside the scale", "rating 5.5 is not on the rating scale [0.5, 5] in steps of 0.5")]
    [InlineData("1::1::0::978300760", "rating outside the scale", "rating 0 is not on the rating scale [0.5, 5]")]
    [InlineData("1::1::good::978300760", "rating is not a number", "\"good\"")]
    [InlineData("1::1::4::978300760123", "timestamp out of range", "978300760123")]
    [InlineData("x::1::4::978300760", "user id is not an integer", "\"x\"")]
    public void A_bad_ratings_dat_row_fails_or_is_skipped(string badLine, string reason, string value)
    {
        _dir.WriteLatin1("movies.dat", "1::Toy Story (1995)::Animation\n2::Heat (1995)::Action\n");
        string path = _dir.Write("ratings.dat", $"1::1::5::978300760\n2::2::3::978302109\n{badLine}\n3::1::2::978824291\n");

        DataFormatException e = _dir.LoadFails("movielens-1m");
        AssertNamesRow(e, path, 3, reason, value);

        Dataset ds = _dir.Load("movielens-1m", BadRowPolicy.Skip);
        Assert.Equal(3, ds.Events.Count);
        Assert.Equal([5f, 3f, 2f], ds.Events.Ratings.ToArray());
        Assert.Equal(1, ds.Report.SkippedByReason[reason]);
        Assert.Equal(1, ds.Report.BadRowsSkipped);
    }

    [Theory]
    [InlineData("1,1,4.0", "malformed line", "separated by ',', found 3")]
    [InlineData("1,5,4.0,964982703", "unknown item id", "item 5 is not in movies.csv")]
    [InlineData("1,1,four,964982703", "rating is not a number", "\"four\"")]
    [InlineData("1,1,5.5,964982703", "rating outside the scale", "rating 5.5 is not on the rating scale [0.5, 5] in steps of 0.5")]
    [InlineData("1,1,0.0,964982703", "rating outside the scale", "rating 0 is not on the rating scale [0.5, 5]")]
    [InlineData("1,1,4.0,964982703.5", "timestamp is not an integer", "\"964982703.5\"")]
    [InlineData("1,1,4.0,-964982703", "timestamp out of range", "-964982703")]
    [InlineData("1,1,4.0,1445714994000", "timestamp out of range", "1445714994000")]
    [InlineData("one,1,4.0,964982703", "user id is not an integer", "\"one\"")]
    public void A_bad_ratings_csv_row_fails_or_is_skipped(string badLine, string reason, string value)
    {
        _dir.Write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n2,Heat (1995),Action\n");
        string path = _dir.Write("ratings.csv", $"userId,movieId,rating,timestamp\n1,1,3.5,964982700\n{badLine}\n2,2,0.5,964982701\n");

        DataFormatException e = _dir.LoadFails("movielens-latest");
        AssertNamesRow(e, path, 3, reason, value);
        Assert.Contains(badLine, e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load("movielens-latest", BadRowPolicy.Skip);
        Assert.Equal(2, ds.Events.Count);
        Assert.Equal([3.5f, 0.5f], ds.Events.Ratings.ToArray());
        Assert.Equal(1, ds.Report.SkippedByReason[reason]);
        Assert.Equal(1, ds.Report.BadRowsSkipped);
    }
}
