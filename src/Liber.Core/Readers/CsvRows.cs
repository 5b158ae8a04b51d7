using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>One record of an RFC 4180 file, with its fields, first line number and raw text.</summary>
public readonly record struct CsvRow(string[] Fields, long Line, string Raw);

/// <summary>Reads RFC 4180 files (quoted fields, embedded commas and quotes) through CsvHelper, strictly as UTF-8.</summary>
public static class CsvRows
{
    /// <summary>Reads the header, then calls <paramref name="row"/> for every record. Returns the header.</summary>
    /// <param name="path">The file; must be valid UTF-8.</param>
    /// <param name="delimiter">The field delimiter.</param>
    /// <param name="hasHeader">Whether the first record is a header.</param>
    /// <param name="bad">Receives rows CsvHelper finds malformed (a stray quote).</param>
    /// <param name="row">Called per record.</param>
    /// <param name="headerSink">Receives the header before the first record.</param>
    /// <param name="expectedHeader">If given, the header must be exactly these columns (case-insensitive).</param>
    public static string[] ForEach(string path, string delimiter, bool hasHeader, BadRowHandler bad, Action<CsvRow> row, string[]? expectedHeader = null, Action<string[]>? headerSink = null)
    {
        DelimitedText.RequireUtf8(path);
        if (new FileInfo(path).Length == 0)
        {
            throw new DataFormatException(path, 0, "file is empty");
        }

        bool badData = false;
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = delimiter,
            HasHeaderRecord = hasHeader,
            BadDataFound = _ => badData = true,
            MissingFieldFound = null,
            DetectColumnCountChanges = false,
            IgnoreBlankLines = true,
        };
        using var reader = new StreamReader(path, new System.Text.UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true);
        using var csv = new CsvReader(reader, config);
        string[] header = [];
        if (hasHeader)
        {
            if (!csv.Read() || !csv.ReadHeader())
            {
                throw new DataFormatException(path, 1, "missing header line");
            }

            header = csv.HeaderRecord ?? [];
            headerSink?.Invoke(header);
            if (expectedHeader is not null && !header.Select(h => h.Trim()).SequenceEqual(expectedHeader, StringComparer.OrdinalIgnoreCase))
            {
                throw new DataFormatException(path, 1, $"expected the header \"{string.Join(delimiter, expectedHeader)}\"", string.Join(delimiter, header));
            }
        }

        while (csv.Read())
        {
            string raw = csv.Parser.RawRecord.TrimEnd('\r', '\n');
            // RawRow is the record's last line; a quoted field may span several.
            long line = csv.Parser.RawRow - raw.Count(c => c == '\n');
            // CsvHelper reports bad data while a field is read, so read them all before deciding.
            var fields = new string[csv.Parser.Count];
            for (int i = 0; i < fields.Length; i++)
            {
                fields[i] = csv.Parser[i] ?? string.Empty;
            }

            if (badData)
            {
                badData = false;
                bad.Bad("malformed line", path, line, raw, "a quote inside an unquoted field, or an unterminated quoted field");
                continue;
            }

            row(new CsvRow(fields, line, raw));
        }

        return header;
    }

    /// <summary>The index of a named header column, or a clear error listing the columns found.</summary>
    public static int Column(string[] header, string name, string path)
    {
        int i = Array.FindIndex(header, h => string.Equals(h.Trim(), name, StringComparison.OrdinalIgnoreCase));
        return i >= 0 ? i : throw new DataFormatException(path, 1, $"no column '{name}' in the header (columns: {string.Join(", ", header)})");
    }
}
