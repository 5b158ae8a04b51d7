using Liber.Core.Data;
using Liber.Core.Readers;

namespace Liber.Core.Tests.Readers;

public sealed class MovieLens1MReaderTests : IDisposable
{
    private const string Kind = "movielens-1m";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Movies =
        "1::Toy Story (1995)::Animation|Children's|Comedy\n" +
        "2::Café au lait (1993)::Comedy\n" +
        "3::City of Lost Children, The (Cité des enfants perdus, La) (1995)::Adventure|Sci-Fi\n" +
        "4::Nothing Listed (2001)::(no genres listed)\n";

    private void WriteValid()
    {
        _dir.WriteLatin1("movies.dat", Movies);
        _dir.Write("ratings.dat", "1::1::5::978300760\n2::3::3::978302109\n1::2::4::978301968\n3::1::2::978824291\n");
        _dir.Write("users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::12::55117\n");
    }

    [Fact]
    public void Ratings_are_read_in_source_order()
    {
        WriteValid();
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(4, ds.Events.Count);
        Assert.Equal(["1", "2", "1", "3"], Enumerable.Range(0, 4).Select(i => ds.Users.External(ds.Events.Users[i])));
        Assert.Equal(["1", "3", "2", "1"], Enumerable.Range(0, 4).Select(i => ds.Items.External(ds.Events.Items[i])));
        Assert.Equal([5f, 3f, 4f, 2f], ds.Events.Ratings.ToArray());
        Assert.Equal([978300760L, 978302109L, 978301968L, 978824291L], ds.Events.Timestamps.ToArray());
        Assert.Equal(RatingScale.HalfStars, ds.Scale);
        Assert.Equal(0, ds.Report.BadRowsSkipped);
    }

    [Fact]
    public void Movies_are_decoded_from_Latin1_with_titles_years_and_genres()
    {
        WriteValid();
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(4, ds.CatalogItems);
        Assert.Equal(("Toy Story", 1995), (ds.Catalog[0].Title, ds.Catalog[0].Year));
        Assert.Equal(["Animation", "Children's", "Comedy"], ds.Catalog[0].Categories);
        Assert.Equal(("Café au lait", 1993), (ds.Catalog[1].Title, ds.Catalog[1].Year));
        Assert.Equal("City of Lost Children, The (Cité des enfants perdus, La)", ds.Catalog[2].Title);
        Assert.Equal(1995, ds.Catalog[2].Year);
        Assert.Equal(["Adventure", "Sci-Fi"], ds.Catalog[2].Categories);
        Assert.Empty(ds.Catalog[3].Categories);
    }

    [Fact]
    public void A_UTF8_reencoded_movies_dat_is_detected_and_decoded()
    {
        WriteValid();
        _dir.Write("movies.dat", Movies);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal("Café au lait", ds.Catalog[1].Title);
        Assert.Equal("City of Lost Children, The (Cité des enfants perdus, La)", ds.Catalog[2].Title);
    }

    [Fact]
    public void A_UTF8_movies_dat_with_a_BOM_is_decoded()
    {
        WriteValid();
        byte[] body = System.Text.Encoding.UTF8.GetBytes(Movies);
        _dir.WriteBytes("movies.dat", [0xEF, 0xBB, 0xBF, .. body]);
        Dataset ds = _dir.Load(Kind);

        Assert.Equal("1", ds.Catalog[0].ExternalId);
        Assert.Equal("Toy Story", ds.Catalog[0].Title);
        Assert.Equal("Café au lait", ds.Catalog[1].Title);
    }

    [Fact]
    public void User_codes_are_decoded()
    {
        WriteValid();
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(3, ds.Profiles.Count);
        ds.Users.TryGet(1, out int u1);
        ds.Users.TryGet(2, out int u2);
        ds.Users.TryGet(3, out int u3);
        UserProfile p1 = ds.Profiles[u1]!, p2 = ds.Profiles[u2]!, p3 = ds.Profiles[u3]!;
        Assert.Equal(("1", (int?)null, "Under 18", "F", "K-12 student", "48067"), (p1.ExternalId, p1.Age, p1.AgeGroup, p1.Gender, p1.Occupation, p1.ZipCode));
        Assert.Equal(("56+", "M", "self-employed", "70072"), (p2.AgeGroup, p2.Gender, p2.Occupation, p2.ZipCode));
        Assert.Equal(("25-34", "programmer"), (p3.AgeGroup, p3.Occupation));
    }

    [Theory]
    [InlineData(1, "Under 18")]
    [InlineData(18, "18-24")]
    [InlineData(25, "25-34")]
    [InlineData(35, "35-44")]
    [InlineData(45, "45-49")]
    [InlineData(50, "50-55")]
    [InlineData(56, "56+")]
    public void Age_codes_map_to_groups(int code, string group)
    {
        WriteValid();
        _dir.Write("users.dat", $"1::M::{code}::0::00000\n");
        Dataset ds = _dir.Load(Kind);

        ds.Users.TryGet(1, out int u);
        Assert.Equal(group, ds.Profiles[u]!.AgeGroup);
        Assert.Equal("other", ds.Profiles[u]!.Occupation);
    }

    [Theory]
    [InlineData(0, "other")]
    [InlineData(12, "programmer")]
    [InlineData(20, "writer")]
    public void Occupation_codes_map_to_names(int code, string name) =>
        Assert.Equal(name, MovieLens1MReader.Occupations[code]);

    [Theory]
    [InlineData("1::F::2::10::48067", "user id or age code invalid", "1::F::2::10::48067")]
    [InlineData("1::F::18::21::48067", "occupation code invalid", "\"21\"")]
    [InlineData("1::X::18::3::48067", "gender invalid", "\"X\"")]
    [InlineData("1::F::18::3", "malformed line", "found 4")]
    public void Invalid_user_codes_fail_or_are_skipped(string line, string reason, string value)
    {
        WriteValid();
        string path = _dir.Write("users.dat", "2::M::56::16::70072\n" + line + "\n3::M::25::12::55117\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(1, ds.Report.BadRowsSkipped);
        Assert.Equal(1, ds.Report.SkippedByReason[reason]);
        ds.Users.TryGet(1, out int u1);
        ds.Users.TryGet(3, out int u3);
        Assert.Null(ds.Profiles[u1]);
        Assert.Equal("programmer", ds.Profiles[u3]!.Occupation);
    }

    [Fact]
    public void Half_star_ratings_are_accepted()
    {
        WriteValid();
        _dir.Write("ratings.dat", "1::1::0.5::978300760\n1::2::3.5::978300761\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal([0.5f, 3.5f], ds.Events.Ratings.ToArray());
    }

    [Fact]
    public void Tags_are_joined_distinct_case_insensitive_most_frequent_first()
    {
        WriteValid();
        _dir.Write("tags.dat",
            "1::1::pixar::1000\n" +
            "2::1::Funny::1001\n" +
            "3::1::funny::1002\n" +
            "1::3::dark::1003\n" +
            "2::1::  PIXAR ::1004\n" +
            "3::1::toys::1005\n" +
            "1::1::FUNNY::1006\n" +
            "1::1::   ::1007\n");
        Dataset ds = _dir.Load(Kind);

        // funny x3 (first spelling "Funny"), pixar x2, toys x1.
        Assert.Equal(["Funny", "pixar", "toys"], ds.Catalog[0].Tags);
        Assert.Empty(ds.Catalog[1].Tags);
        Assert.Equal(["dark"], ds.Catalog[2].Tags);
        Assert.Equal(0, ds.Report.BadRowsSkipped);
        // Tags are not events.
        Assert.Equal(4, ds.Events.Count);
    }

    [Fact]
    public void Tags_with_equal_counts_keep_their_first_appearance_order()
    {
        WriteValid();
        _dir.Write("tags.dat", "1::1::b::1\n1::1::a::2\n1::1::c::3\n2::1::a::4\n2::1::b::5\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(["b", "a", "c"], ds.Catalog[0].Tags);
    }

    [Fact]
    public void A_tag_for_an_unknown_movie_fails_or_is_skipped()
    {
        WriteValid();
        string path = _dir.Write("tags.dat", "1::1::pixar::1000\n1::777::lost::1001\n1::1::toys::1002\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("777", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(1, ds.Report.SkippedByReason["unknown item id"]);
        Assert.Equal(["pixar", "toys"], ds.Catalog[0].Tags);
    }

    [Fact]
    public void A_malformed_tag_line_fails_or_is_skipped()
    {
        WriteValid();
        string path = _dir.Write("tags.dat", "1::1::pixar::1000\n1::1::no-timestamp\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("1::1::no-timestamp", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(1, ds.Report.SkippedByReason["malformed line"]);
        Assert.Equal(["pixar"], ds.Catalog[0].Tags);
    }

    [Fact]
    public void A_malformed_movies_line_fails_or_is_skipped()
    {
        WriteValid();
        string path = _dir.WriteLatin1("movies.dat", "1::Toy Story (1995)::Animation\n2::Missing genres (1993)\n3::Heat (1995)::Action\n");
        _dir.Write("ratings.dat", "1::1::5::978300760\n2::3::3::978302109\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("2::Missing genres (1993)", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(2, ds.CatalogItems);
        Assert.Equal(["1", "3"], ds.Catalog.Select(i => i.ExternalId));
        Assert.Equal(2, ds.Events.Count);
        Assert.Equal(1, ds.Report.SkippedByReason["malformed line"]);
    }

    [Fact]
    public void A_non_integer_movie_id_fails_or_is_skipped()
    {
        WriteValid();
        string path = _dir.WriteLatin1("movies.dat", "1::Toy Story (1995)::Animation\nM2::Heat (1995)::Action\n");
        _dir.Write("ratings.dat", "1::1::5::978300760\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"M2\"", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(1, ds.CatalogItems);
        Assert.Equal(1, ds.Report.SkippedByReason["item id is not an integer"]);
    }
}
