using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Liber.Knowledge;

/// <summary>
/// Row-major vectors, one row per input text, in one flat array (ready for <c>torch.tensor(data, [count, dimension])</c>).
/// </summary>
public sealed class EmbeddingMatrix
{
    private static readonly byte[] Magic = "LVEC"u8.ToArray();
    private readonly float[] data;

    /// <summary>Wraps <paramref name="data"/> (not copied) as <paramref name="count"/> rows of <paramref name="dimension"/>.</summary>
    public EmbeddingMatrix(float[] data, int count, int dimension)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(dimension);
        if ((long)count * dimension != data.Length)
        {
            throw new ArgumentException($"{data.Length} floats are not {count} rows of {dimension}", nameof(data));
        }

        this.data = data;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>Rows.</summary>
    public int Count { get; }

    /// <summary>Length of each row.</summary>
    public int Dimension { get; }

    /// <summary>All values, row after row.</summary>
    public Memory<float> Data => data;

    /// <summary>Row <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Row(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return data.AsSpan(index * Dimension, Dimension);
    }

    /// <summary>A copy as one array per row.</summary>
    public float[][] ToJagged()
    {
        var rows = new float[Count][];
        for (int i = 0; i < Count; i++)
        {
            rows[i] = Row(i).ToArray();
        }

        return rows;
    }

    /// <summary>
    /// Writes the matrix: the ASCII magic <c>LVEC</c>, then int32 version (1), int32 rows and int32 dimension, then the
    /// floats, all little-endian (numpy: <c>np.fromfile(f, '&lt;f4', offset=16).reshape(rows, dim)</c>).
    /// </summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[16];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], Count);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], Dimension);
        stream.Write(header);
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
        }
        else
        {
            stream.Write(Cache.EmbeddingCache.ToBlob(data));
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The stream is not such a file or is cut short.</exception>
    public static EmbeddingMatrix Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[16];
        stream.ReadExactly(header);
        if (!header[..4].SequenceEqual(Magic) || BinaryPrimitives.ReadInt32LittleEndian(header[4..]) != 1)
        {
            throw new InvalidDataException($"not a Liber vector file (magic '{Encoding.ASCII.GetString(header[..4])}', expected 'LVEC' version 1)");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        int dim = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        if (count < 0 || dim < 0 || (long)count * dim > Array.MaxLength)
        {
            throw new InvalidDataException($"Liber vector file: bad shape {count} x {dim}");
        }

        var bytes = new byte[(long)count * dim * sizeof(float)];
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"Liber vector file: cut short; {count} x {dim} floats expected", e);
        }

        return new EmbeddingMatrix(Cache.EmbeddingCache.FromBlob(bytes), count, dim);
    }
}
