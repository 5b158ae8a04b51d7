using System.Buffers.Text;
using System.Text;
using System.Text.Unicode;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>Text encodings a metadata file may use.</summary>
public enum FileEncoding
{
    /// <summary>Strict UTF-8: invalid bytes are an error.</summary>
    Utf8,

    /// <summary>ISO-8859-1: every byte is a character.</summary>
    Latin1,
}

/// <summary>Span helpers shared by the readers: field splitting, number parsing, text decoding.</summary>
public static class Fields
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Earliest accepted timestamp (1970-01-01) in unix seconds (<see cref="EventRules.MinTimestamp"/>).</summary>
    public const long MinTimestamp = EventRules.MinTimestamp;

    /// <summary>Latest accepted timestamp (exclusive, 2100-01-01) in unix seconds (<see cref="EventRules.MaxTimestamp"/>).</summary>
    public const long MaxTimestamp = EventRules.MaxTimestamp;

    /// <summary>Splits <paramref name="line"/> on <paramref name="separator"/> into at most <paramref name="fields"/>.Length ranges; returns the number of fields found (which may exceed the room).</summary>
    public static int Split(ReadOnlySpan<byte> line, ReadOnlySpan<byte> separator, Span<Range> fields)
    {
        int count = 0;
        int pos = 0;
        while (true)
        {
            int next = line[pos..].IndexOf(separator);
            int end = next < 0 ? line.Length : pos + next;
            if (count < fields.Length)
            {
                fields[count] = new Range(pos, end);
            }

            count++;
            if (next < 0)
            {
                return count;
            }

            pos = end + separator.Length;
        }
    }

    /// <summary>Parses a whole (space-trimmed) field as a 64-bit integer.</summary>
    public static bool TryLong(ReadOnlySpan<byte> field, out long value)
    {
        field = field.Trim((byte)' ');
        return Utf8Parser.TryParse(field, out value, out int used) && used == field.Length && field.Length > 0;
    }

    /// <summary>Parses a whole (space-trimmed) field as a finite float.</summary>
    public static bool TryFloat(ReadOnlySpan<byte> field, out float value)
    {
        field = field.Trim((byte)' ');
        return Utf8Parser.TryParse(field, out value, out int used) && used == field.Length && field.Length > 0 && float.IsFinite(value);
    }

    /// <summary>Decodes bytes to text in the given encoding; invalid UTF-8 is a <see cref="DataFormatException"/> naming the byte.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, FileEncoding encoding, string file, long line)
    {
        if (encoding == FileEncoding.Latin1)
        {
            return Encoding.Latin1.GetString(bytes);
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            int bad = FirstInvalidUtf8(bytes);
            throw new DataFormatException(file, line,
                $"not valid UTF-8 (byte 0x{bytes[bad]:X2} at column {bad + 1}); the file may be Latin-1 or another legacy encoding: convert it to UTF-8",
                Encoding.Latin1.GetString(bytes));
        }
    }

    /// <summary>
    /// Chooses the encoding of a file documented as Latin-1 (MovieLens 100K/1M): UTF-8 if it has a BOM or
    /// is valid UTF-8 with non-ASCII bytes (a re-encoded copy), else Latin-1. Legacy Latin-1 text with
    /// accents is practically never valid UTF-8, so this does not misread the official files.
    /// </summary>
    public static FileEncoding DetectLatin1OrUtf8(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return FileEncoding.Utf8;
        }

        bool ascii = System.Text.Ascii.IsValid(bytes);
        return !ascii && Utf8.IsValid(bytes) ? FileEncoding.Utf8 : FileEncoding.Latin1;
    }

    /// <summary>
    /// Null when the start of a file may be UTF-8 text, else why it is not: a UTF-16 or UTF-32 byte-order mark, or many NUL
    /// bytes (UTF-16 without a mark, or a binary file). NUL is valid UTF-8, so without this a UTF-16 file would pass the UTF-8
    /// check and fail later as a missing column or be called "Latin-1?".
    /// </summary>
    public static string? WideEncodingProblem(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]) || head.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]))
        {
            return "file is UTF-32 (it starts with a UTF-32 byte-order mark): save it as UTF-8";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return "file is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8";
        }

        ReadOnlySpan<byte> sample = head[..Math.Min(head.Length, 4096)];
        int nul = sample.Count((byte)0);
        bool startsWithNul = sample.Length >= 2 && (sample[0] == 0 || sample[1] == 0);
        return nul > 0 && (startsWithNul || nul * 4 >= sample.Length)
            ? $"file is UTF-16 without a byte-order mark, or binary ({nul} of its first {sample.Length} bytes are NUL): save it as UTF-8"
            : null;
    }

    /// <summary>Parses a title of the MovieLens form "Name (1995)" into its name and year.</summary>
    public static (string Title, int? Year) SplitTitleYear(string title)
    {
        string t = title.Trim();
        if (t.Length >= 6 && t[^1] == ')')
        {
            int open = t.LastIndexOf('(');
            if (open >= 0 && t.Length - open - 2 is >= 4 and <= 9)
            {
                ReadOnlySpan<char> inner = t.AsSpan(open + 1, t.Length - open - 2);
                // "1995" or a range such as "2007-2013" (TV series in MovieLens latest).
                if (int.TryParse(inner[..4], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int year)
                    && (inner.Length == 4 || inner[4] == '-'))
                {
                    return (t[..open].TrimEnd(), year);
                }
            }
        }

        return (t, null);
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        char[] chars = new char[bytes.Length];
        Utf8.ToUtf16(bytes, chars, out int read, out _, replaceInvalidSequences: false);
        return Math.Min(read, bytes.Length - 1);
    }
}
