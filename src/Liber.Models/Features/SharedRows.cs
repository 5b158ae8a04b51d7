using static TorchSharp.torch;

namespace Liber.Models.Features;

/// <summary>
/// The batch convention for inputs shared by every sample: a tensor whose first dimension is one row expanded over
/// B > 1 samples (stride 0) holds the same values in every row, so a layer may compute on the first row and expand the
/// result. <see cref="BatchWriter"/> writes a shared user's history, long history and partitions that way (online
/// ranking: one user against N candidates), which is how a request computes the history once, not once per candidate.
/// </summary>
public static class SharedRows
{
    /// <summary>Whether <paramref name="t"/> is one row expanded over more than one sample.</summary>
    public static bool IsExpanded(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return t.dim() > 0 && t.shape[0] > 1 && t.stride(0) == 0;
    }

    /// <summary>The first row of a tensor, keeping the dimension: [B, ...] -> [1, ...].</summary>
    public static Tensor First(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return t.narrow(0, 0, 1);
    }

    /// <summary>A [1, ...] tensor expanded over <paramref name="batch"/> samples (unchanged when <paramref name="batch"/> is 1).</summary>
    public static Tensor Expand(Tensor row, long batch)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.shape[0] == batch)
        {
            return row;
        }

        long[] shape = row.shape;
        shape[0] = batch;
        return row.expand(shape);
    }
}
