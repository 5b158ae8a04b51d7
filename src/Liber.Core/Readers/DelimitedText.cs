using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>Reads small delimited metadata files (u.item, movies.dat, users.dat) line by line as decoded text.</summary>
public static class DelimitedText
{
    /// <summary>Calls <paramref name="row"/> with the decoded fields and line number of every non-blank line.</summary>
    public static void ForEachRow(string path, string separator, FileEncoding encoding, Action<string[], long, string> row)
    {
        using var reader = new LineReader(path);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (line.IsEmpty)
            {
                continue;
            }

            string text = Fields.Decode(line, encoding, path, reader.LineNumber);
            row(text.Split(separator), reader.LineNumber, text);
        }
    }

    /// <summary>Throws a <see cref="DataFormatException"/> for a UTF-16/UTF-32 file, or naming the line of the first invalid UTF-8 byte, if any.</summary>
    public static void RequireUtf8(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, 0, "file not found");
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (Fields.WideEncodingProblem(bytes) is string wide)
        {
            throw new DataFormatException(path, 1, wide);
        }

        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return;
        }

        int lineStart = 0;
        long line = 1;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                if (!System.Text.Unicode.Utf8.IsValid(bytes.AsSpan(lineStart, i - lineStart)))
                {
                    break;
                }

                lineStart = i + 1;
                line++;
            }
        }

        int end = Array.IndexOf(bytes, (byte)'\n', lineStart);
        Fields.Decode(bytes.AsSpan(lineStart, (end < 0 ? bytes.Length : end) - lineStart), FileEncoding.Utf8, path, line);
    }
}
