using Liber.Core.Data;
using Liber.Core.Readers;

namespace Liber.Core.Tests.Readers;

public sealed class CsvDatasetReaderTests : IDisposable
{
    private const string Kind = "csv";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string[] ExternalUsers(Dataset ds) => [.. Enumerable.Range(0, ds.Events.Count).Select(i => ds.Users.External(ds.Events.Users[i]))];

    private static string[] ExternalItems(Dataset ds) => [.. Enumerable.Range(0, ds.Events.Count).Select(i => ds.Items.External(ds.Events.Items[i]))];

    [Fact]
    public void Default_mapping_reads_events_and_items()
    {
        _dir.Write("items.csv", "item_id,title,categories\nb1,\"Dune, Part One\",Sci-Fi|Drama\na7,Heat,Action\nz9,Unrated,\n");
        _dir.Write("events.csv", "user_id,item_id,rating,timestamp\nalice,a7,4,1600000000\nbob,b1,2.5,1600000100\nalice,b1,5,1600000200\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal("csv", ds.Kind);
        Assert.Equal(3, ds.CatalogItems);
        Assert.Equal(["b1", "a7", "z9"], ds.Catalog.Select(i => i.ExternalId));
        Assert.Equal("Dune, Part One", ds.Catalog[0].Title);
        Assert.Null(ds.Catalog[0].Year);
        Assert.Equal(["Sci-Fi", "Drama"], ds.Catalog[0].Categories);
        Assert.Empty(ds.Catalog[2].Categories);
        Assert.Equal(["alice", "bob", "alice"], ExternalUsers(ds));
        Assert.Equal(["a7", "b1", "b1"], ExternalItems(ds));
        Assert.Equal([4f, 2.5f, 5f], ds.Events.Ratings.ToArray());
        Assert.Equal([1600000000L, 1600000100L, 1600000200L], ds.Events.Timestamps.ToArray());
        Assert.Equal(new RatingScale(1, 5, 4), ds.Scale);
        Assert.Equal(2, ds.Profiles.Count);
    }

    [Fact]
    public void Without_an_items_file_items_come_from_events()
    {
        _dir.Write("events.csv", "user_id,item_id,rating,timestamp\nu1,x,3,1600000000\nu2,y,4,1600000001\nu1,y,5,1600000002\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(0, ds.CatalogItems);
        Assert.Equal(2, ds.Catalog.Count);
        Assert.Equal(["x", "y"], ds.Catalog.Select(i => i.ExternalId));
        Assert.Equal(["x", "y"], ds.Catalog.Select(i => i.Title));
        Assert.Equal(["x", "y", "y"], ExternalItems(ds));
    }

    [Fact]
    public void A_mapping_file_renames_columns_with_delimiter_and_iso8601_times()
    {
        _dir.Write("liber-csv.json", """
            {
              // comments and trailing commas are allowed
              "events": { "file": "log.txt", "delimiter": ";", "user": "who", "item": "what", "rating": "stars",
                          "timestamp": "when", "timestamp_format": "iso8601" },
              "items": { "file": "catalog.txt", "delimiter": ";", "id": "sku", "title": "name", "year": "yr",
                         "categories": "cats", "category_separator": ",", "tags": "labels", "text": "desc" },
              "rating_min": 0, "rating_max": 10, "threshold": 7,
            }
            """);
        _dir.Write("catalog.txt", "sku;name;yr;cats;labels;desc\nS1;Heat;1995;Action, Crime;heist|la;A long film\nS2;Up;;;;\n");
        _dir.Write("log.txt", "what;who;stars;when\nS2;ann;0;2020-01-02T03:04:05Z\nS1;ann;9.5;2020-01-02T05:04:05+02:00\nS1;ben;10;2020-01-02T03:04:05\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(new RatingScale(0, 10, 7), ds.Scale);
        Assert.Equal(2, ds.CatalogItems);
        Item heat = ds.Catalog[0];
        Assert.Equal(("S1", "Heat", (int?)1995, "A long film"), (heat.ExternalId, heat.Title, heat.Year, heat.Text));
        Assert.Equal(["Action", "Crime"], heat.Categories);
        Assert.Equal(["heist", "la"], heat.Tags);
        Item up = ds.Catalog[1];
        Assert.Equal(("Up", (int?)null, (string?)null), (up.Title, up.Year, up.Text));
        Assert.Empty(up.Categories);
        Assert.Equal(["ann", "ann", "ben"], ExternalUsers(ds));
        Assert.Equal(["S2", "S1", "S1"], ExternalItems(ds));
        Assert.Equal([0f, 9.5f, 10f], ds.Events.Ratings.ToArray());
        Assert.Equal([1577934245L, 1577934245L, 1577934245L], ds.Events.Timestamps.ToArray());
    }

    [Fact]
    public void A_mapping_file_outside_the_folder_with_unix_ms()
    {
        using var other = new TempDir();
        string mapping = other.Write("my-mapping.json", """{ "events": { "timestamp": "ts", "timestamp_format": "unix_ms" } }""");
        _dir.Write("events.csv", "user_id,item_id,rating,ts\n1,10,5,1577934245123\n2,10,1,1577934245999\n");
        Dataset ds = _dir.Load(Kind, mappingFile: mapping);

        Assert.Equal([1577934245L, 1577934245L], ds.Events.Timestamps.ToArray());
        Assert.Equal([5f, 1f], ds.Events.Ratings.ToArray());
    }

    [Fact]
    public void A_custom_date_format_is_read_as_UTC()
    {
        _dir.Write("liber-csv.json", """{ "events": { "timestamp_format": "yyyy/MM/dd HH:mm" } }""");
        _dir.Write("events.csv", "user_id,item_id,rating,timestamp\n1,10,5,2020/01/02 03:04\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(1577934240L, ds.Events.Timestamps[0]);
    }

    [Fact]
    public void A_null_rating_column_means_implicit_feedback()
    {
        _dir.Write("liber-csv.json", """{ "events": { "rating": null } }""");
        _dir.Write("events.csv", "user_id,item_id,timestamp\nu1,a,1600000000\nu2,b,1600000001\nu1,b,1600000002\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(3, ds.Events.Count);
        Assert.Equal([1f, 1f, 1f], ds.Events.Ratings.ToArray());
        Assert.Equal(new RatingScale(1, 1, 1), ds.Scale);
    }

    [Fact]
    public void A_headerless_file_uses_0_based_column_indices()
    {
        _dir.Write("liber-csv.json", """{ "events": { "file": "raw.tsv", "delimiter": "\t", "header": false, "user": "2", "item": "0", "timestamp": "1", "rating": "3" } }""");
        _dir.Write("raw.tsv", "i1\t1600000000\tu1\t4\ni2\t1600000005\tu2\t3\n");
        Dataset ds = _dir.Load(Kind);

        Assert.Equal(["u1", "u2"], ExternalUsers(ds));
        Assert.Equal(["i1", "i2"], ExternalItems(ds));
        Assert.Equal([4f, 3f], ds.Events.Ratings.ToArray());
        Assert.Equal([1600000000L, 1600000005L], ds.Events.Timestamps.ToArray());
    }

    [Fact]
    public void A_headerless_file_with_a_column_name_is_an_error()
    {
        _dir.Write("liber-csv.json", """{ "events": { "header": false } }""");
        string path = _dir.Write("events.csv", "u1,a,4,1600000000\n");
        DataFormatException e = _dir.LoadFails(Kind, BadRowPolicy.Skip);

        Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("column 'user_id' must be a 0-based index", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "events": { "colour": "red" } }""", "colour")]
    [InlineData("""{ "event": {} }""", "event")]
    [InlineData("""{ "items": { "id": "sku", "genre_column": "g" } }""", "genre_column")]
    public void An_unknown_mapping_key_is_an_error_naming_the_key(string json, string key)
    {
        string mapping = _dir.Write("liber-csv.json", json);
        _dir.Write("events.csv", "user_id,item_id,rating,timestamp\nu1,a,4,1600000000\n");
        DataFormatException e = _dir.LoadFails(Kind);

        Assert.StartsWith(mapping, e.Message, StringComparison.Ordinal);
        Assert.Contains("invalid mapping", e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{key}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_explicit_mapping_file_is_an_error()
    {
        _dir.Write("events.csv", "user_id,item_id,rating,timestamp\nu1,a,4,1600000000\n");
        string missing = _dir.File("nope.json");
        DataFormatException e = _dir.LoadFails(Kind, mappingFile: missing);

        Assert.Equal($"{missing}: mapping file not found", e.Message);
    }

    [Fact]
    public void A_mapped_column_missing_from_the_header_is_an_error_listing_columns()
    {
        string path = _dir.Write("events.csv", "user,item_id,rating,timestamp\nu1,a,4,1600000000\n");
        DataFormatException e = _dir.LoadFails(Kind, BadRowPolicy.Skip);

        Assert.StartsWith($"{path}:1: no column 'user_id' in the header (columns: user, item_id, rating, timestamp)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("carol,zz,4,1600000000", "unknown item id", "item zz is not in items.csv")]
    [InlineData("carol,a7,lots,1600000000", "rating is not a number", "\"lots\"")]
    [InlineData("carol,a7,7,1600000000", "rating outside the scale", "rating 7 is not on the rating scale [1, 5]; set rating_min/rating_max in liber-csv.json")]
    [InlineData("carol,a7,4,soon", "timestamp not readable", "\"soon\" is not unix")]
    [InlineData("carol,a7,4,1600000000000", "timestamp out of range", "milliseconds? set events.timestamp_format to unix_ms in liber-csv.json")]
    [InlineData("carol,a7,4,-5", "timestamp out of range", "timestamp -5 is before 1970")]
    [InlineData("carol,a7,4", "malformed line", "expected at least 4 fields, found 3")]
    [InlineData(",a7,4,1600000000", "empty user or item id", ",a7,4,1600000000")]
    public void A_bad_events_row_fails_or_is_skipped(string badLine, string reason, string value)
    {
        _dir.Write("items.csv", "item_id,title,categories\na7,Heat,Action\nb1,Up,Animation\n");
        string path = _dir.Write("events.csv", $"user_id,item_id,rating,timestamp\nalice,a7,4,1600000000\n{badLine}\nbob,b1,2,1600000100\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:3:", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{badLine}\"", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(["alice", "bob"], ExternalUsers(ds));
        Assert.Equal([4f, 2f], ds.Events.Ratings.ToArray());
        Assert.Equal(1, ds.Report.BadRowsSkipped);
        Assert.Equal(1, ds.Report.SkippedByReason[reason]);
        Assert.Equal($"{path}:3: {badLine}", ds.Report.Examples[reason]);
    }

    [Fact]
    public void A_bad_items_row_fails_or_is_skipped()
    {
        _dir.Write("liber-csv.json", """{ "items": { "year": "year" } }""");
        string path = _dir.Write("items.csv", "item_id,title,categories,year\na7,Heat,Action,1995\nb1,Up,Animation,twenty\nc3,Dune,Sci-Fi,2021\n");
        _dir.Write("events.csv", "user_id,item_id,rating,timestamp\nalice,a7,4,1600000000\nbob,c3,2,1600000100\n");

        DataFormatException e = _dir.LoadFails(Kind);
        Assert.Contains($"{path}:3:", e.Message, StringComparison.Ordinal);
        Assert.Contains("year is not an integer", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"twenty\"", e.Message, StringComparison.Ordinal);

        Dataset ds = _dir.Load(Kind, BadRowPolicy.Skip);
        Assert.Equal(["a7", "c3"], ds.Catalog.Select(i => i.ExternalId));
        Assert.Equal([1995, 2021], ds.Catalog.Select(i => i.Year ?? 0));
        Assert.Equal(2, ds.Events.Count);
        Assert.Equal(1, ds.Report.SkippedByReason["year is not an integer"]);
    }

    [Theory]
    [InlineData(BadRowPolicy.Fail)]
    [InlineData(BadRowPolicy.Skip)]
    public void An_invalid_UTF8_byte_in_events_names_the_line(BadRowPolicy policy)
    {
        string path = _dir.WriteBytes("events.csv", System.Text.Encoding.Latin1.GetBytes("user_id,item_id,rating,timestamp\nalice,a7,4,1600000000\nJosé,a7,4,1600000000\n"));
        DataFormatException e = _dir.LoadFails(Kind, policy);

        Assert.StartsWith($"{path}:3: not valid UTF-8 (byte 0xE9 at column 4)", e.Message, StringComparison.Ordinal);
        Assert.Contains("José", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_events_file_is_reported()
    {
        string path = _dir.Write("events.csv", "");
        DataFormatException e = _dir.LoadFails(Kind);

        Assert.Equal($"{path}: file is empty", e.Message);
    }

    [Fact]
    public void A_missing_events_file_is_reported()
    {
        _dir.Write("items.csv", "item_id,title,categories\na7,Heat,Action\n");
        DataFormatException e = _dir.LoadFails(Kind);

        Assert.Equal($"{_dir.File("events.csv")}: file not found", e.Message);
    }

    [Fact]
    public void Mapping_defaults_are_the_documented_ones()
    {
        var m = new CsvMapping();
        Assert.Equal(("events.csv", ",", true, "user_id", "item_id", "timestamp", "rating", "unix"),
            (m.Events.File, m.Events.Delimiter, m.Events.Header, m.Events.User, m.Events.Item, m.Events.Timestamp, m.Events.Rating, m.Events.TimestampFormat));
        Assert.Null(m.Items);
        Assert.Equal((1f, 5f, 4f), (m.RatingMin, m.RatingMax, m.Threshold));
    }
}
