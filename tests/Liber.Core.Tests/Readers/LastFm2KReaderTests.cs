using Liber.Core.Data;
using Liber.Core.Readers;
using Liber.Core.Streams;

namespace Liber.Core.Tests.Readers;

public sealed class LastFm2KReaderTests : IDisposable
{
    private const string Kind = "lastfm-2k";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void WriteValid(string? tagged = null)
    {
        _dir.Write("artists.dat", "id\tname\turl\tpictureURL\n1\tMALICE MIZER\thttp://a\thttp://p\n2\tDiary of Dreams\thttp://b\thttp://q\n3\tBjörk\thttp://c\thttp://r\n");
        _dir.WriteLatin1("tags.dat", "tagID\ttagValue\n1\tmetal\n2\tgothic\n3\tchanson française\n");
        _dir.Write("user_taggedartists.dat", tagged ??
            "userID\tartistID\ttagID\tday\tmonth\tyear\n" +
            "2\t1\t1\t1\t4\t2009\n" + // first (2, 1): 2009-04-01
            "2\t1\t2\t1\t4\t2009\n" + // same pair, same day: folded
            "2\t2\t2\t5\t4\t2009\n" +
            "2\t2\t1\t1\t3\t2009\n" + // same pair, an EARLIER day further down: this row is the first interaction
            "7\t3\t3\t1\t1\t2010\n" +
            "7\t1\t1\t1\t1\t2010\n" + // tie with the row above: file order
            "7\t9\t1\t2\t1\t2010\n"); // artist 9 is not in artists.dat: kept, named by id
    }

    private static long Day(int y, int m, int d) => new DateTimeOffset(y, m, d, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    [Fact]
    public void An_event_is_the_first_tag_assignment_of_a_user_artist_pair()
    {
        WriteValid();
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(5, ds.Events.Count);
        string[] pairs = [.. Enumerable.Range(0, ds.Events.Count).Select(i => $"{ds.Users.External(ds.Events.Users[i])}:{ds.Items.External(ds.Events.Items[i])}@{ds.Events.Timestamps[i]}").Order(StringComparer.Ordinal)];
        string[] expected = [$"2:1@{Day(2009, 4, 1)}", $"2:2@{Day(2009, 3, 1)}", $"7:3@{Day(2010, 1, 1)}", $"7:1@{Day(2010, 1, 1)}", $"7:9@{Day(2010, 1, 2)}"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), pairs);
        Assert.All(ds.Events.Ratings.ToArray(), r => Assert.Equal(1f, r));
        Assert.Equal(LastFm2KReader.Implicit, ds.Scale);
        Assert.Equal(2, ds.Report.Folded["repeat tag assignments (folded into the first event of the pair)"]);
        Assert.Equal(1, ds.Report.Folded["artists not in artists.dat (kept, named by id)"]);
        Assert.Equal(0, ds.Report.BadRowsSkipped);
    }

    /// <summary>
    /// The file is sorted by artist id within a user; on one day the stream must not keep that order (it would tell positives
    /// from drawn negatives: docs/protocol.md). 60 same-day artists in ascending file order come out in the fixed hash order:
    /// about half of the neighbouring pairs ascend, the same on every load, days stay in time order.
    /// </summary>
    [Fact]
    public void Ties_on_a_day_are_ordered_by_a_fixed_hash_not_by_the_file_s_artist_order()
    {
        var artists = new System.Text.StringBuilder("id\tname\turl\tpictureURL\n");
        var tagged = new System.Text.StringBuilder("userID\tartistID\ttagID\tday\tmonth\tyear\n");
        for (int a = 1; a <= 60; a++)
        {
            artists.Append(System.Globalization.CultureInfo.InvariantCulture, $"{a}\tartist {a}\thttp://a\thttp://p\n");
            tagged.Append(System.Globalization.CultureInfo.InvariantCulture, $"5\t{a}\t1\t3\t2\t2010\n");
        }

        tagged.Append("5\t61\t1\t2\t2\t2010\n"); // the day before, last in the file: first in the stream
        _dir.Write("artists.dat", artists.ToString());
        _dir.WriteLatin1("tags.dat", "tagID\ttagValue\n1\tmetal\n");
        _dir.Write("user_taggedartists.dat", tagged.ToString());
        long[] Stream()
        {
            var streams = UserStreams.Build(_dir.Load(Kind));
            return [.. streams.Stream(0).Select(e => long.Parse(streams.Dataset.Items.External(e.Item), System.Globalization.CultureInfo.InvariantCulture))];
        }

        long[] order = Stream();
        Assert.Equal(61, order.Length);
        Assert.Equal(61, order[0]);
        long[] day = order[1..];
        Assert.Equal(Enumerable.Range(1, 60).Select(a => (long)a), day.Order());
        int ascending = day.Zip(day.Skip(1)).Count(p => p.Second > p.First);
        Assert.InRange(ascending, 18, 41); // of 59 pairs; file order would give 59
        Assert.Equal(order, Stream());
    }

    [Fact]
    public void Artists_get_their_most_assigned_tags_as_categories_and_Latin1_tag_names()
    {
        WriteValid();
        Dataset ds = _dir.Load(Kind);

        Item malice = ds.Catalog.Single(i => i.ExternalId == "1");
        Assert.Equal("MALICE MIZER", malice.Title);
        Assert.Equal(["metal", "gothic"], malice.Categories); // metal 2 assignments, gothic 1
        Assert.Equal(["chanson française"], ds.Catalog.Single(i => i.ExternalId == "3").Categories);
        Assert.Equal("Björk", ds.Catalog.Single(i => i.ExternalId == "3").Title);
        Item unknown = ds.Catalog.Single(i => i.ExternalId == "9");
        Assert.Equal(["metal"], unknown.Categories);
        Assert.Equal(3, ds.CatalogItems);
    }

    [Theory]
    [InlineData("2\t1\t1\t31\t2\t2009", "invalid date")]
    [InlineData("2\t1\t1\t1\t13\t2009", "invalid date")]
    [InlineData("2\tx\t1\t1\t4\t2009", "id is not an integer")]
    [InlineData("2\t1\t99\t1\t4\t2009", "unknown tag")]
    [InlineData("2\t1\t1\t1\t4", "malformed line")]
    public void A_bad_assignment_row_names_file_line_and_value_or_is_counted_under_skip(string row, string reason)
    {
        WriteValid("userID\tartistID\ttagID\tday\tmonth\tyear\n2\t2\t2\t5\t4\t2009\n" + row + "\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.EndsWith("user_taggedartists.dat", e.File);
        Assert.Equal(3, e.Line);
        Assert.Contains(reason, e.Message);
        Assert.Contains(row.Split('\t')[0], e.Text);

        Dataset skipped = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(1, skipped.Events.Count);
        Assert.Equal(1, skipped.Report.SkippedByReason[reason]);
    }

    [Fact]
    public void A_wrong_header_is_an_error_naming_the_file()
    {
        WriteValid("user\tartist\ttag\n2\t1\t1\n");
        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Equal(1, e.Line);
        Assert.Contains("expected the header", e.Message);
    }

    [Fact]
    public void Only_a_header_is_an_error_not_an_empty_data_set()
    {
        WriteValid("userID\tartistID\ttagID\tday\tmonth\tyear\n");
        Assert.Contains("has no events", _dir.LoadFails(Kind).Message);
    }

    [RealDataFact("lastfm-2k")]
    public void Last_fm_2k_counts_equal_an_independent_count_of_the_raw_file()
    {
        string dir = RealData.Require("lastfm-2k");
        // Independent count: distinct (user, artist) pairs, users and artists of the raw tag file.
        var pairs = new HashSet<(string, string)>();
        var users = new HashSet<string>();
        var artists = new HashSet<string>();
        int rows = 0, before1970 = 0;
        foreach (string line in File.ReadLines(Path.Combine(dir, "user_taggedartists.dat")).Skip(1))
        {
            if (line.Length == 0)
            {
                continue;
            }

            string[] f = line.Split('\t');
            rows++;
            if (int.Parse(f[5], System.Globalization.CultureInfo.InvariantCulture) < 1970)
            {
                before1970++; // the release has 4 rows dated 1956-1957: bad rows, named by the reader
                continue;
            }

            pairs.Add((f[0], f[1]));
            users.Add(f[0]);
            artists.Add(f[1]);
        }

        Assert.Contains("1956", Assert.Throws<DataFormatException>(() => DatasetReaders.Load(Kind, new DatasetRequest(dir))).Message);
        Dataset ds = DatasetReaders.Load(Kind, new DatasetRequest(dir, BadRowPolicy.Skip));
        Assert.Equal(186_479, rows);
        Assert.Equal(before1970, ds.Report.SkippedByReason["invalid date"]);
        Assert.Equal(before1970, ds.Report.BadRowsSkipped);
        Assert.Equal(pairs.Count, ds.Events.Count);
        Assert.Equal(1_892, users.Count);
        Assert.Equal(users.Count, ds.Users.Count);
        Assert.Equal(rows - before1970 - pairs.Count, ds.Report.Folded["repeat tag assignments (folded into the first event of the pair)"]);
        Assert.Equal(17_632, ds.CatalogItems);

        var samples = SampleSet.Build(UserStreams.Build(ds), new SampleOptions());
        DatasetStats stats = DatasetStats.Of(samples);
        Assert.Equal(artists.Count, stats.Items);
        Assert.Equal(stats.Events, stats.Positives);

        // Same-day neighbours in the streams: their artist ids ascend about half the time (file order: nearly always).
        long pairsOnADay = 0, ascending = 0;
        for (int u = 0; u < samples.Streams.UserCount; u++)
        {
            var stream = samples.Streams.Stream(u).ToArray();
            for (int i = 1; i < stream.Length; i++)
            {
                if (stream[i].Timestamp == stream[i - 1].Timestamp)
                {
                    pairsOnADay++;
                    ascending += long.Parse(ds.Items.External(stream[i].Item), System.Globalization.CultureInfo.InvariantCulture) > long.Parse(ds.Items.External(stream[i - 1].Item), System.Globalization.CultureInfo.InvariantCulture) ? 1 : 0;
                }
            }
        }

        Assert.True(pairsOnADay > 50_000, $"{pairsOnADay} same-day pairs");
        Assert.InRange((double)ascending / pairsOnADay, 0.45, 0.55);
    }
}
