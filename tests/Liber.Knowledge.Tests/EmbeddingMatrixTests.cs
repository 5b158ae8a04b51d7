namespace Liber.Knowledge.Tests;

public sealed class EmbeddingMatrixTests
{
    [Fact]
    public void Write_then_read_gives_the_same_matrix_with_a_16_byte_header()
    {
        var m = new EmbeddingMatrix([1, 2, 3, 4, 5, 6], count: 2, dimension: 3);
        using var stream = new MemoryStream();
        m.Write(stream);
        Assert.Equal(16 + (6 * 4), stream.Length);
        Assert.Equal("LVEC"u8.ToArray(), stream.ToArray()[..4]);
        stream.Position = 0;
        var back = EmbeddingMatrix.Read(stream);
        Assert.Equal(2, back.Count);
        Assert.Equal(3, back.Dimension);
        Assert.Equal(new float[] { 4, 5, 6 }, back.Row(1).ToArray());
        Assert.Equal([[1f, 2f, 3f], [4f, 5f, 6f]], back.ToJagged());
    }

    [Fact]
    public void A_file_cut_short_or_of_another_kind_is_refused()
    {
        var m = new EmbeddingMatrix(new float[6], 2, 3);
        using var stream = new MemoryStream();
        m.Write(stream);
        Assert.Throws<InvalidDataException>(() => EmbeddingMatrix.Read(new MemoryStream(stream.ToArray()[..20])));
        Assert.Throws<InvalidDataException>(() => EmbeddingMatrix.Read(new MemoryStream("NOPE000000000000"u8.ToArray())));
    }

    [Fact]
    public void Shape_must_match_the_data()
    {
        Assert.Throws<ArgumentException>(() => new EmbeddingMatrix(new float[5], 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingMatrix(new float[6], 2, 3).Row(2));
    }
}
