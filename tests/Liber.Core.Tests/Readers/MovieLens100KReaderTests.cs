using Liber.Core.Data;
using Liber.Core.Readers;

namespace Liber.Core.Tests.Readers;

public sealed class MovieLens100KReaderTests : IDisposable
{
    private const string Kind = "movielens-100k";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A u.item line: id|title|release|video|URL|19 flags with 1 at the given genre indices (0 = unknown).</summary>
    internal static string ItemLine(int id, string title, string release, params int[] genres)
    {
        var flags = new string[19];
        for (int g = 0; g < flags.Length; g++)
        {
            flags[g] = genres.Contains(g) ? "1" : "0";
        }

        return $"{id}|{title}|{release}||http://us.imdb.com/M/title-exact?x|{string.Join('|', flags)}";
    }

    /// <summary>A small valid folder: 4 items (one Latin-1), 3 users, 5 events.</summary>
    internal static void WriteValid(TempDir dir)
    {
        dir.WriteLatin1("u.item", string.Join('\n',
            ItemLine(1, "Toy Story (1995)", "01-Jan-1995", 3, 4, 5),
            ItemLine(2, "Café (1995)", "01-Jan-1995", 8),
            ItemLine(3, "unknown", "", 0),
            ItemLine(4, "No Year Here", "15-Mar-1997", 1, 18)) + "\n");
        dir.Write("u.data", "10\t2\t5\t881250949\n20\t1\t3\t891717742\n10\t1\t4\t878887116\n30\t4\t1\t880606923\n20\t2\t2\t886397596\n");
        dir.Write("u.user", "10|24|M|technician|85711\n20|53|F|other|94043\n30|17|M|student|32067\n99|40|F|writer|12345\n");
    }

    [Fact]
    public void Events_are_read_in_source_order_with_ratings_and_timestamps()
    {
        WriteValid(_dir);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal("movielens-100k", ds.Kind);
        Assert.Equal(5, ds.Events.Count);
        string[] users = [.. Enumerable.Range(0, 5).Select(i => ds.Users.External(ds.Events.Users[i]))];
        string[] items = [.. Enumerable.Range(0, 5).Select(i => ds.Items.External(ds.Events.Items[i]))];
        Assert.Equal(["10", "20", "10", "30", "20"], users);
        Assert.Equal(["2", "1", "1", "4", "2"], items);
        Assert.Equal([5f, 3f, 4f, 1f, 2f], ds.Events.Ratings.ToArray());
        Assert.Equal([881250949L, 891717742L, 878887116L, 880606923L, 886397596L], ds.Events.Timestamps.ToArray());
        Assert.Equal(3, ds.Users.Count);
        Assert.Equal(0, ds.Report.BadRowsSkipped);
        Assert.Equal(RatingScale.FiveStars, ds.Scale);

        BehaviorEvent e = ds.Events[3];
        Assert.Equal(3, e.Position);
        Assert.Equal(1f, e.Rating);
        Assert.Equal("30", ds.Users.External(e.User));
        Assert.Equal("4", ds.Items.External(e.Item));
        Assert.Equal(880606923L, e.Timestamp);
    }

    [Fact]
    public void Catalog_holds_every_item_of_u_item_in_file_order()
    {
        WriteValid(_dir);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(4, ds.CatalogItems);
        Assert.Equal(4, ds.Catalog.Count);
        Assert.Equal(["1", "2", "3", "4"], ds.Catalog.Select(i => i.ExternalId));
        Assert.Equal([0, 1, 2, 3], ds.Catalog.Select(i => i.Id));
    }

    [Fact]
    public void Titles_split_into_title_and_year_and_Latin1_decodes()
    {
        WriteValid(_dir);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal("Toy Story", ds.Catalog[0].Title);
        Assert.Equal(1995, ds.Catalog[0].Year);
        Assert.Equal("Café", ds.Catalog[1].Title);
        Assert.Equal(1995, ds.Catalog[1].Year);
        Assert.Equal("unknown", ds.Catalog[2].Title);
        Assert.Null(ds.Catalog[2].Year);
        // No year in the title: the release date gives it.
        Assert.Equal("No Year Here", ds.Catalog[3].Title);
        Assert.Equal(1997, ds.Catalog[3].Year);
    }

    [Fact]
    public void Genres_come_from_flags_and_unknown_gives_none()
    {
        WriteValid(_dir);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(["Animation", "Children's", "Comedy"], ds.Catalog[0].Categories);
        Assert.Equal(["Drama"], ds.Catalog[1].Categories);
        Assert.Empty(ds.Catalog[2].Categories);
        Assert.Equal(["Action", "Western"], ds.Catalog[3].Categories);
        Assert.All(ds.Catalog, i => Assert.Empty(i.Tags));
    }

    [Fact]
    public void A_u_genre_file_names_the_genres()
    {
        WriteValid(_dir);
        string[] names = [.. MovieLens100KReader.DefaultGenres.Select((g, i) => i == 3 ? "Cartoons" : g)];
        _dir.Write("u.genre", string.Concat(names.Select((g, i) => $"{g}|{i}\n")) + "\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(["Cartoons", "Children's", "Comedy"], ds.Catalog[0].Categories);
    }

    [Fact]
    public void A_u_genre_file_with_indices_out_of_order_is_an_error()
    {
        WriteValid(_dir);
        string genre = _dir.Write("u.genre", "unknown|0\nAction|2\n");
        DataFormatException e = _dir.LoadFails(Kind, BadRowPolicy.Skip);

        Assert.Contains($"{genre}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("Action|2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Profiles_hold_user_fields_and_age_group()
    {
        WriteValid(_dir);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(3, ds.Profiles.Count);
        Assert.True(ds.Users.TryGet(10, out int u10));
        UserProfile p = Assert.IsType<UserProfile>(ds.Profiles[u10]);
        Assert.Equal(("10", 24, "18-24", "M", "technician", "85711"), (p.ExternalId, p.Age, p.AgeGroup, p.Gender, p.Occupation, p.ZipCode));
        Assert.True(ds.Users.TryGet(20, out int u20));
        UserProfile q = Assert.IsType<UserProfile>(ds.Profiles[u20]);
        Assert.Equal((53, "50-55", "F", "other", "94043"), (q.Age, q.AgeGroup, q.Gender, q.Occupation, q.ZipCode));
        Assert.True(ds.Users.TryGet(30, out int u30));
        Assert.Equal("Under 18", ds.Profiles[u30]!.AgeGroup);
        // User 99 has a profile but no events: not a user of the data set.
        Assert.False(ds.Users.TryGet(99, out _));
    }

    [Fact]
    public void Without_u_user_there_are_no_profiles()
    {
        WriteValid(_dir);
        File.Delete(_dir.File("u.user"));
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(3, ds.Profiles.Count);
        Assert.All(ds.Profiles, Assert.Null);
    }

    [Theory]
    [InlineData(7, "Under 18")]
    [InlineData(17, "Under 18")]
    [InlineData(18, "18-24")]
    [InlineData(24, "18-24")]
    [InlineData(25, "25-34")]
    [InlineData(34, "25-34")]
    [InlineData(35, "35-44")]
    [InlineData(45, "45-49")]
    [InlineData(49, "45-49")]
    [InlineData(50, "50-55")]
    [InlineData(55, "50-55")]
    [InlineData(56, "56+")]
    [InlineData(73, "56+")]
    public void AgeGroup_matches_the_1M_groups(int age, string group) =>
        Assert.Equal(group, MovieLens100KReader.AgeGroup(age));

    [Fact]
    public void A_UTF8_reencoded_u_item_decodes()
    {
        WriteValid(_dir);
        _dir.Write("u.item", ItemLine(1, "Misérables, Les (1995)", "01-Jan-1995", 8) + "\n" + ItemLine(2, "Café (1995)", "", 5) + "\n");
        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);

        Assert.Equal("Misérables, Les", ds.Catalog[0].Title);
        Assert.Equal("Café", ds.Catalog[1].Title);
    }

    [Fact]
    public void Wrong_field_count_in_u_item_fails_or_is_skipped()
    {
        WriteValid(_dir);
        string path = _dir.WriteLatin1("u.item", ItemLine(1, "Toy Story (1995)", "", 3) + "\n5|Short line|x\n" + ItemLine(2, "Café (1995)", "", 8) + "\n");
        _dir.Write("u.data", "10\t2\t5\t881250949\n20\t1\t3\t891717742\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("5|Short line|x", e.Message, StringComparison.Ordinal);
        Assert.Contains("found 3", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(2, ds.CatalogItems);
        Assert.Equal(2, ds.Events.Count);
        Assert.Equal(1, ds.Report.SkippedByReason["malformed line"]);
        Assert.Equal(1, ds.Report.BadRowsSkipped);
        Assert.Equal($"{path}:2: 5|Short line|x", ds.Report.Examples["malformed line"]);
    }

    [Fact]
    public void A_genre_flag_other_than_0_or_1_fails_or_is_skipped()
    {
        WriteValid(_dir);
        string bad = ItemLine(4, "Bad Flags (1996)", "", 2).Replace("|1|", "|yes|", StringComparison.Ordinal);
        string path = _dir.WriteLatin1("u.item", ItemLine(1, "Toy Story (1995)", "", 3) + "\n" + ItemLine(2, "Café (1995)", "", 8) + "\n" + bad + "\n");
        _dir.Write("u.data", "10\t2\t5\t881250949\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:3", e.Message, StringComparison.Ordinal);
        Assert.Contains("yes", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(2, ds.CatalogItems);
        Assert.Equal(1, ds.Report.SkippedByReason["genre flag is not 0 or 1"]);
    }

    [Fact]
    public void A_duplicate_item_id_fails_or_is_skipped()
    {
        WriteValid(_dir);
        string path = _dir.WriteLatin1("u.item", ItemLine(1, "Toy Story (1995)", "", 3) + "\n" + ItemLine(1, "Copy (1995)", "", 8) + "\n");
        _dir.Write("u.data", "10\t1\t5\t881250949\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("Copy (1995)", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(1, ds.CatalogItems);
        Assert.Equal("Toy Story", ds.Catalog[0].Title);
        Assert.Equal(1, ds.Report.SkippedByReason["duplicate item id"]);
    }

    [Fact]
    public void A_bad_u_user_row_fails_or_is_skipped()
    {
        WriteValid(_dir);
        string path = _dir.Write("u.user", "10|24|M|technician|85711\n20|old|F|other|94043\n30|17|M|student\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("20|old|F|other|94043", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(1, ds.Report.SkippedByReason["user id or age is not an integer"]);
        Assert.Equal(1, ds.Report.SkippedByReason["malformed line"]);
        Assert.Equal(5, ds.Events.Count);
        Assert.True(ds.Users.TryGet(20, out int u20));
        Assert.Null(ds.Profiles[u20]);
        Assert.True(ds.Users.TryGet(10, out int u10));
        Assert.Equal(24, ds.Profiles[u10]!.Age);
    }
}
