using System.Text;
using Liber.Core.Data;
using Liber.Core.Readers;

namespace Liber.Core.Tests.Readers;

/// <summary>Whole-file problems: missing, empty, wrong encoding, wrong header. They fail under either policy.</summary>
public sealed class FileErrorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void WriteLatest()
    {
        _dir.Write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n2,Heat (1995),Action\n");
        _dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n");
    }

    private void Write100K()
    {
        _dir.WriteLatin1("u.item", MovieLens100KReaderTests.ItemLine(1, "Toy Story (1995)", "", 3) + "\n");
        _dir.Write("u.data", "10\t1\t4\t881250000\n");
    }

    [Theory]
    [InlineData("movielens-100k", BadRowPolicy.Fail)]
    [InlineData("movielens-1m", BadRowPolicy.Skip)]
    [InlineData("movielens-latest", BadRowPolicy.Fail)]
    [InlineData("csv", BadRowPolicy.Skip)]
    public void A_missing_folder_is_reported(string kind, BadRowPolicy policy)
    {
        string missing = Path.Combine(_dir.Path, "no-such-folder");
        DataFormatException e = Assert.Throws<DataFormatException>(() => DatasetReaders.Load(kind, new DatasetRequest(missing, policy)));

        Assert.Equal($"{missing}: folder not found", e.Message);
        Assert.Equal(0, e.Line);
    }

    [Fact]
    public void A_request_without_a_path_is_an_argument_error()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetReaders.Load("movielens-100k", new DatasetRequest(null)));
        Assert.Contains("--path", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_kind_lists_the_known_kinds()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetReaders.Load("movielens-20m", new DatasetRequest(_dir.Path)));
        Assert.Contains("'movielens-20m'", e.Message, StringComparison.Ordinal);
        Assert.Contains("movielens-100k, movielens-1m, movielens-latest, lastfm-2k, csv", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BadRowPolicy.Fail)]
    [InlineData(BadRowPolicy.Skip)]
    public void A_missing_u_data_is_file_not_found(BadRowPolicy policy)
    {
        Write100K();
        File.Delete(_dir.File("u.data"));
        DataFormatException e = _dir.LoadFails("movielens-100k", policy);

        Assert.Equal($"{_dir.File("u.data")}: file not found", e.Message);
    }

    [Fact]
    public void A_missing_u_item_is_file_not_found()
    {
        Write100K();
        File.Delete(_dir.File("u.item"));
        DataFormatException e = _dir.LoadFails("movielens-100k");

        Assert.Equal($"{_dir.File("u.item")}: file not found", e.Message);
    }

    [Theory]
    [InlineData("movies.csv")]
    [InlineData("ratings.csv")]
    public void A_missing_latest_file_is_file_not_found(string file)
    {
        WriteLatest();
        File.Delete(_dir.File(file));
        DataFormatException e = _dir.LoadFails("movielens-latest", BadRowPolicy.Skip);

        Assert.Equal($"{_dir.File(file)}: file not found", e.Message);
    }

    [Fact]
    public void A_missing_movies_dat_is_file_not_found()
    {
        _dir.Write("ratings.dat", "1::1::5::978300760\n");
        DataFormatException e = _dir.LoadFails("movielens-1m");

        Assert.Equal($"{_dir.File("movies.dat")}: file not found", e.Message);
    }

    [Theory]
    [InlineData("u.data", BadRowPolicy.Fail)]
    [InlineData("u.data", BadRowPolicy.Skip)]
    [InlineData("u.item", BadRowPolicy.Fail)]
    public void An_empty_100K_file_is_reported(string file, BadRowPolicy policy)
    {
        Write100K();
        string path = _dir.Write(file, "");
        DataFormatException e = _dir.LoadFails("movielens-100k", policy);

        Assert.Equal($"{path}: file is empty", e.Message);
    }

    [Theory]
    [InlineData("movies.csv")]
    [InlineData("ratings.csv")]
    public void An_empty_latest_file_is_reported(string file)
    {
        WriteLatest();
        string path = _dir.Write(file, "");
        DataFormatException e = _dir.LoadFails("movielens-latest", BadRowPolicy.Skip);

        Assert.Equal($"{path}: file is empty", e.Message);
    }

    [Theory]
    [InlineData(BadRowPolicy.Fail)]
    [InlineData(BadRowPolicy.Skip)]
    public void A_wrong_ratings_csv_header_is_reported(BadRowPolicy policy)
    {
        WriteLatest();
        string path = _dir.Write("ratings.csv", "user,item,rating,timestamp\n1,1,4.0,964982703\n");
        DataFormatException e = _dir.LoadFails("movielens-latest", policy);

        Assert.StartsWith($"{path}:1: expected the header \"userId,movieId,rating,timestamp\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"user,item,rating,timestamp\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ratings_csv_without_header_is_reported()
    {
        WriteLatest();
        string path = _dir.Write("ratings.csv", "1,1,4.0,964982703\n1,2,3.0,964982704\n");
        DataFormatException e = _dir.LoadFails("movielens-latest");

        Assert.Contains($"{path}:1:", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"1,1,4.0,964982703\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_ratings_csv_header_is_case_insensitive()
    {
        WriteLatest();
        _dir.Write("ratings.csv", "USERID,MovieId,Rating,TimeStamp\n1,2,4.0,964982703\n");
        Dataset ds = _dir.Load("movielens-latest");

        Assert.Equal(1, ds.Events.Count);
    }

    [Theory]
    [InlineData(BadRowPolicy.Fail)]
    [InlineData(BadRowPolicy.Skip)]
    public void An_invalid_UTF8_byte_in_movies_csv_names_the_line(BadRowPolicy policy)
    {
        WriteLatest();
        string path = _dir.WriteBytes("movies.csv", Encoding.Latin1.GetBytes("movieId,title,genres\n1,Toy Story (1995),Comedy\n2,Café (1995),Drama\n"));
        DataFormatException e = _dir.LoadFails("movielens-latest", policy);

        Assert.StartsWith($"{path}:3: not valid UTF-8 (byte 0xE9 at column 6)", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"2,Café (1995),Drama\"", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void An_invalid_UTF8_byte_in_tags_csv_names_the_line()
    {
        WriteLatest();
        string path = _dir.WriteBytes("tags.csv", Encoding.Latin1.GetBytes("userId,movieId,tag,timestamp\n1,1,fun,1\n1,1,fun,2\n1,2,résumé,3\n"));
        DataFormatException e = _dir.LoadFails("movielens-latest");

        Assert.StartsWith($"{path}:4: not valid UTF-8 (byte 0xE9 at column 6)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("u.data", BadRowPolicy.Fail)]
    [InlineData("u.data", BadRowPolicy.Skip)]
    [InlineData("u.item", BadRowPolicy.Fail)]
    public void A_UTF16_file_with_BOM_is_reported_as_UTF16(string file, BadRowPolicy policy)
    {
        Write100K();
        string text = file == "u.data" ? "10\t1\t4\t881250000\n" : MovieLens100KReaderTests.ItemLine(1, "Toy Story (1995)", "", 3) + "\n";
        string path = _dir.WriteBytes(file, [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)]);
        DataFormatException e = _dir.LoadFails("movielens-100k", policy);

        Assert.StartsWith($"{path}:1: file is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_big_endian_UTF16_ratings_csv_is_reported_as_UTF16()
    {
        WriteLatest();
        string path = _dir.WriteBytes("ratings.csv", [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes("userId,movieId,rating,timestamp\n")]);
        DataFormatException e = _dir.LoadFails("movielens-latest");

        Assert.StartsWith($"{path}:1: file is UTF-16", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_UTF16_file_without_BOM_is_reported_as_UTF16()
    {
        Write100K();
        string path = _dir.WriteBytes("u.data", Encoding.Unicode.GetBytes("10\t1\t4\t881250000\n"));
        DataFormatException e = _dir.LoadFails("movielens-100k");

        Assert.StartsWith($"{path}:1: file is UTF-16 without a byte-order mark", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_UTF16_movies_csv_with_BOM_is_rejected_at_line_1()
    {
        WriteLatest();
        string path = _dir.WriteBytes("movies.csv", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("movieId,title,genres\n1,Toy Story (1995),Comedy\n")]);
        DataFormatException e = _dir.LoadFails("movielens-latest", BadRowPolicy.Skip);

        // It used to be "not valid UTF-8 (byte 0xFF ...); the file may be Latin-1": the byte-order mark says what it is.
        Assert.StartsWith($"{path}:1: file is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8", e.Message, StringComparison.Ordinal);
    }
}
