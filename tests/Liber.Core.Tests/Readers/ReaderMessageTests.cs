using System.Text;
using Liber.Core.Data;

namespace Liber.Core.Tests.Readers;

/// <summary>Reader errors say which file and which key of <c>liber-csv.json</c> to change, and what the file really is.</summary>
public sealed class ReaderMessageTests : IDisposable
{
    private const string Header = "user_id,item_id,rating,timestamp\n";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_missing_column_points_to_its_key_in_the_mapping_file()
    {
        _dir.Write("events.csv", "user,item_id,rating,timestamp\nu1,a,4,1600000000\n");
        DataFormatException e = _dir.LoadFails("csv");
        Assert.Contains("no column 'user_id'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"set \"events.user\" in {_dir.File("liber-csv.json")} (create it)", e.Message, StringComparison.Ordinal);

        _dir.Write("liber-csv.json", """{ "events": { "user": "user", "item": "sku" } }""");
        e = _dir.LoadFails("csv");
        Assert.Contains("no column 'sku'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"set \"events.item\" in {_dir.File("liber-csv.json")} to the column", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_column_of_a_header_only_file_is_still_reported_as_the_column()
    {
        _dir.Write("events.csv", "user,item_id,rating,timestamp\n");
        Assert.Contains("no column 'user_id'", _dir.LoadFails("csv").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_timestamp_points_to_timestamp_format()
    {
        _dir.Write("events.csv", Header + "u1,a,4,2024-01-05\n");
        DataFormatException e = _dir.LoadFails("csv");
        Assert.Contains("\"2024-01-05\" is not unix", e.Message, StringComparison.Ordinal);
        Assert.Contains("set events.timestamp_format in liber-csv.json (unix, unix_ms, iso8601", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("le")]
    [InlineData("be")]
    [InlineData("le-no-bom")]
    public void A_UTF16_events_csv_is_called_UTF16_not_Latin1(string kind)
    {
        Encoding encoding = kind.StartsWith("le", StringComparison.Ordinal) ? Encoding.Unicode : Encoding.BigEndianUnicode;
        byte[] text = encoding.GetBytes(Header + "u1,a,4,1600000000\n");
        string path = _dir.WriteBytes("events.csv", kind.EndsWith("no-bom", StringComparison.Ordinal) ? text : [.. encoding.GetPreamble(), .. text]);
        DataFormatException e = _dir.LoadFails("csv");
        Assert.StartsWith($"{path}:1: file is UTF-16", e.Message, StringComparison.Ordinal);
        Assert.Contains("save it as UTF-8", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Latin-1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_UTF16_items_csv_is_called_UTF16()
    {
        string path = _dir.WriteBytes("items.csv", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("item_id,title,categories\na,A,x\n")]);
        _dir.Write("events.csv", Header + "u1,a,4,1600000000\n");
        Assert.StartsWith($"{path}:1: file is UTF-16", _dir.LoadFails("csv").Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BadRowPolicy.Fail)]
    [InlineData(BadRowPolicy.Skip)]
    public void A_header_only_events_file_is_a_user_error(BadRowPolicy policy)
    {
        string path = _dir.Write("events.csv", Header);
        DataFormatException e = _dir.LoadFails("csv", policy);
        Assert.Equal($"{path}: events.csv has no events (no line after the header): add one event per line", e.Message);

        _dir.Write("liber-csv.json", """{ "events": { "header": false, "user": "0", "item": "1", "rating": "2", "timestamp": "3" } }""");
        _dir.Write("events.csv", "\n\n");
        Assert.Equal($"{path}: events.csv has no events (no event line): add one event per line", _dir.LoadFails("csv", policy).Message);
    }

    [Fact]
    public void An_events_file_whose_every_row_was_skipped_is_a_user_error_with_the_reasons()
    {
        string path = _dir.Write("events.csv", Header + "u1,a,4,1600000000000\nu2,b,9,1600000000\n");
        DataFormatException e = _dir.LoadFails("csv", BadRowPolicy.Skip);
        Assert.StartsWith($"{path}: events.csv has no events: all 2 rows were skipped as bad", e.Message, StringComparison.Ordinal);
        Assert.Contains("1 timestamp out of range", e.Message, StringComparison.Ordinal);
        Assert.Contains("1 rating outside the scale", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("movielens-latest", "ratings.csv", "userId,movieId,rating,timestamp\n")]
    [InlineData("movielens-100k", "u.data", "\n")]
    public void A_ratings_file_without_events_is_a_user_error(string kind, string file, string text)
    {
        if (kind == "movielens-latest")
        {
            _dir.Write("movies.csv", "movieId,title,genres\n1,Heat (1995),Action\n");
        }
        else
        {
            _dir.WriteLatin1("u.item", MovieLens100KReaderTests.ItemLine(1, "Heat (1995)", "", 3) + "\n");
        }

        string path = _dir.Write(file, text);
        DataFormatException e = _dir.LoadFails(kind);
        Assert.StartsWith($"{path}: {file} has no events ({(kind == "movielens-100k" ? "no event line" : "no line after the header")})", e.Message, StringComparison.Ordinal);
    }
}
