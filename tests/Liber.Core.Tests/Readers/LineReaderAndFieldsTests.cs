using System.Text;
using Liber.Core.Data;
using Liber.Core.Readers;

namespace Liber.Core.Tests.Readers;

public sealed class LineReaderAndFieldsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static List<(long Line, string Text)> ReadAll(string path, int bufferSize)
    {
        var lines = new List<(long, string)>();
        using var reader = new LineReader(path, bufferSize);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            lines.Add((reader.LineNumber, Encoding.UTF8.GetString(line)));
        }

        return lines;
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(1 << 20)]
    public void Lines_survive_buffer_boundaries_long_lines_and_CRLF(int bufferSize)
    {
        string longLine = new('x', 100);
        string path = _dir.Write("f.txt", $"first\r\n{longLine}\n\nabc\r\n{longLine}y\r\nlast-no-newline");
        var lines = ReadAll(path, bufferSize);

        Assert.Equal(
            [(1L, "first"), (2L, longLine), (3L, ""), (4L, "abc"), (5L, longLine + "y"), (6L, "last-no-newline")],
            lines);
    }

    [Fact]
    public void A_UTF8_BOM_is_skipped_and_a_trailing_newline_gives_no_extra_line()
    {
        string path = _dir.WriteBytes("f.txt", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("a\tb\nc\n")]);
        Assert.Equal([(1L, "a\tb"), (2L, "c")], ReadAll(path, 16));
    }

    [Fact]
    public void Missing_and_empty_files_are_errors()
    {
        string missing = _dir.File("none.txt");
        var e1 = Assert.Throws<DataFormatException>(() => new LineReader(missing));
        Assert.Equal($"{missing}: file not found", e1.Message);

        string empty = _dir.Write("empty.txt", "");
        var e2 = Assert.Throws<DataFormatException>(() => new LineReader(empty));
        Assert.Equal($"{empty}: file is empty", e2.Message);
        Assert.Equal(0, e2.Line);
    }

    [Theory]
    [InlineData("a::b::c", 3)]
    [InlineData("a::b::c::d::e", 5)]
    [InlineData("", 1)]
    [InlineData("a:b", 1)]
    [InlineData("::", 2)]
    public void Split_counts_fields_even_beyond_the_room(string line, int count)
    {
        Span<Range> f = stackalloc Range[4];
        byte[] bytes = Encoding.ASCII.GetBytes(line);
        Assert.Equal(count, Fields.Split(bytes, "::"u8, f));
    }

    [Fact]
    public void Split_gives_field_ranges()
    {
        Span<Range> f = stackalloc Range[4];
        byte[] bytes = "196\t242\t3\t881250949"u8.ToArray();
        Assert.Equal(4, Fields.Split(bytes, "\t"u8, f));
        Assert.Equal("242", Encoding.ASCII.GetString(bytes.AsSpan()[f[1]]));
        Assert.Equal("881250949", Encoding.ASCII.GetString(bytes.AsSpan()[f[3]]));
    }

    [Theory]
    [InlineData("42", true, 42L)]
    [InlineData(" 42 ", true, 42L)]
    [InlineData("4102444800", true, 4102444800L)]
    [InlineData("4.2", false, 0L)]
    [InlineData("12a", false, 0L)]
    [InlineData("", false, 0L)]
    [InlineData("  ", false, 0L)]
    public void TryLong_parses_whole_fields_only(string text, bool ok, long value)
    {
        Assert.Equal(ok, Fields.TryLong(Encoding.ASCII.GetBytes(text), out long v));
        if (ok)
        {
            Assert.Equal(value, v);
        }
    }

    [Theory]
    [InlineData("3.5", true, 3.5f)]
    [InlineData("4", true, 4f)]
    [InlineData(" 0.5", true, 0.5f)]
    [InlineData("3,5", false, 0f)]
    [InlineData("five", false, 0f)]
    [InlineData("", false, 0f)]
    public void TryFloat_parses_whole_fields_only(string text, bool ok, float value)
    {
        Assert.Equal(ok, Fields.TryFloat(Encoding.ASCII.GetBytes(text), out float v));
        if (ok)
        {
            Assert.Equal(value, v);
        }
    }

    [Theory]
    [InlineData("Toy Story (1995)", "Toy Story", 1995)]
    [InlineData("  Heat (1995)  ", "Heat", 1995)]
    [InlineData("(500) Days of Summer (2009)", "(500) Days of Summer", 2009)]
    [InlineData("Babylon 5 (1994-1998)", "Babylon 5", 1994)]
    [InlineData("Stranger Things (2016-)", "Stranger Things", 2016)]
    [InlineData("Black Mirror", "Black Mirror", null)]
    [InlineData("Title (abcd)", "Title (abcd)", null)]
    [InlineData("Title (95)", "Title (95)", null)]
    [InlineData("unknown", "unknown", null)]
    public void SplitTitleYear_separates_the_year(string input, string title, int? year) =>
        Assert.Equal((title, year), Fields.SplitTitleYear(input));

    [Fact]
    public void Decode_reads_Latin1_and_rejects_invalid_UTF8_naming_the_byte()
    {
        byte[] latin1 = Encoding.Latin1.GetBytes("Café");
        Assert.Equal("Café", Fields.Decode(latin1, FileEncoding.Latin1, "f", 1));
        Assert.Equal("Café", Fields.Decode(Encoding.UTF8.GetBytes("Café"), FileEncoding.Utf8, "f", 1));

        var e = Assert.Throws<DataFormatException>(() => Fields.Decode(latin1, FileEncoding.Utf8, "movies.csv", 7));
        Assert.StartsWith("movies.csv:7: not valid UTF-8 (byte 0xE9 at column 4)", e.Message, StringComparison.Ordinal);
        Assert.Equal("Café", e.Text);
    }

    [Theory]
    [InlineData("ascii", FileEncoding.Latin1)]
    [InlineData("latin1", FileEncoding.Latin1)]
    [InlineData("utf8", FileEncoding.Utf8)]
    [InlineData("bom", FileEncoding.Utf8)]
    public void DetectLatin1OrUtf8_chooses_by_content(string kind, FileEncoding expected)
    {
        const string text = "1::Café (1995)::Comedy\n";
        byte[] bytes = kind switch
        {
            "ascii" => Encoding.ASCII.GetBytes("1::Toy Story (1995)::Comedy\n"),
            "latin1" => Encoding.Latin1.GetBytes(text),
            "utf8" => Encoding.UTF8.GetBytes(text),
            _ => [0xEF, 0xBB, 0xBF, .. Encoding.ASCII.GetBytes("1::Toy Story (1995)::Comedy\n")],
        };
        Assert.Equal(expected, Fields.DetectLatin1OrUtf8(_dir.WriteBytes("movies.dat", bytes)));
    }

    [Fact]
    public void DataFormatException_formats_file_line_problem_and_text()
    {
        var whole = new DataFormatException("u.data", 0, "file is empty");
        Assert.Equal("u.data: file is empty", whole.Message);
        Assert.Null(whole.Text);

        var row = new DataFormatException("u.data", 12, "bad rating", "1\t2\tx\t3");
        Assert.Equal("u.data:12: bad rating: \"1\t2\tx\t3\"", row.Message);
        Assert.Equal(("u.data", 12L, "bad rating", "1\t2\tx\t3"), (row.File, row.Line, row.Problem, row.Text));

        var longRow = new DataFormatException("f", 1, "p", new string('a', 250));
        Assert.Equal($"f:1: p: \"{new string('a', 200)}...\"", longRow.Message);
        Assert.Equal(250, longRow.Text!.Length);
    }

    [Fact]
    public void LoadReport_counts_by_reason_and_keeps_the_first_example()
    {
        var report = new LoadReport();
        Assert.Equal(0, report.BadRowsSkipped);
        report.Skip("unknown item id", "u.data", 3, "first");
        report.Skip("unknown item id", "u.data", 9, "second");
        report.Skip("malformed line", "u.data", 5, new string('b', 300));

        Assert.Equal(3, report.BadRowsSkipped);
        Assert.Equal(2, report.SkippedByReason["unknown item id"]);
        Assert.Equal(1, report.SkippedByReason["malformed line"]);
        Assert.Equal("u.data:3: first", report.Examples["unknown item id"]);
        Assert.Equal($"u.data:5: {new string('b', 200)}...", report.Examples["malformed line"]);
    }

    [Fact]
    public void BadRowHandler_throws_under_Fail_and_counts_under_Skip()
    {
        var failReport = new LoadReport();
        var fail = new BadRowHandler(BadRowPolicy.Fail, failReport);
        var e = Assert.Throws<DataFormatException>(() => fail.Bad("rating is not a number", "r.csv", 4, "1,2,x,3", "rating \"x\""));
        Assert.Equal("r.csv:4: rating is not a number (rating \"x\"); pass --on-bad-row skip to skip and count such rows: \"1,2,x,3\"", e.Message);
        Assert.Equal(0, failReport.BadRowsSkipped);

        var skip = new BadRowHandler(BadRowPolicy.Skip, new LoadReport());
        skip.Bad("rating is not a number", "r.csv", 4, "1,2,x,3");
        skip.Bad("rating is not a number", "r.csv", 6, "1,2,y,3");
        Assert.Equal(2, skip.Report.SkippedByReason["rating is not a number"]);
        Assert.Equal("r.csv:4: 1,2,x,3", skip.Report.Examples["rating is not a number"]);
    }
}
