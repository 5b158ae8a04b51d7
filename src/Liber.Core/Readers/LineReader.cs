using System.Buffers;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>
/// Streams the lines of a file as byte spans without allocating per line. Hand-written because the
/// event files are the hot path of every load (1M+ lines): a TextReader would decode and allocate a
/// string per line. Rejects empty files and UTF-16/UTF-32 (or binary) files with a clear message; skips a UTF-8 BOM.
/// </summary>
public sealed class LineReader : IDisposable
{
    private readonly FileStream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    public LineReader(string path, int bufferSize = 1 << 20)
    {
        Path = path;
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, 0, "file not found");
        }

        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        Fill();
        if (_end == 0)
        {
            Dispose();
            throw new DataFormatException(path, 0, "file is empty");
        }

        ReadOnlySpan<byte> head = _buffer.AsSpan(0, _end);
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            _start = 3;
        }
        else if (Fields.WideEncodingProblem(head) is string wide)
        {
            Dispose();
            throw new DataFormatException(path, 1, wide);
        }
    }

    /// <summary>The file being read.</summary>
    public string Path { get; }

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Reads the next line without its line terminator (\n or \r\n).</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                line = TrimCr(_buffer.AsSpan(_start, nl));
                _start += nl + 1;
                LineNumber++;
                return true;
            }

            if (_eof)
            {
                if (_start < _end)
                {
                    line = TrimCr(_buffer.AsSpan(_start, _end - _start));
                    _start = _end;
                    LineNumber++;
                    return true;
                }

                line = default;
                return false;
            }

            Compact();
            Fill();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stream.Dispose();
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    private void Compact()
    {
        int remaining = _end - _start;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, remaining);
        }
        else if (remaining == _buffer.Length)
        {
            // A line longer than the buffer: grow it.
            byte[] bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, bigger, 0, remaining);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        _start = 0;
        _end = remaining;
    }

    private void Fill()
    {
        while (_end < _buffer.Length)
        {
            int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                _eof = true;
                return;
            }

            _end += read;
        }
    }
}
