using System.Runtime.InteropServices;
using Liber.Models.Features;
using static TorchSharp.torch;

namespace Liber.Models.Serving;

/// <summary>
/// One ranking request with its ids resolved on the host (before a forward slot is taken): the user, the history
/// window (codes and scaled ratings, oldest first), the candidates, and the vectors of the last P partitions as a small
/// table (row 0 the zero padding row, rows 1..n the partitions oldest first).
/// </summary>
internal sealed class ScoringRequest
{
    public required int User { get; init; }

    public required ReadOnlyMemory<long> UserFields { get; init; }

    public required ItemCodes[] Past { get; init; }

    public required float[] Ratings { get; init; }

    public required ItemCodes[] Targets { get; init; }

    /// <summary>Visible partitions n (at most P), or -1 when the model has no fusion.</summary>
    public required int Partitions { get; init; }

    /// <summary>The caller's partitions (oldest first): the last <see cref="Partitions"/> of them are read.</summary>
    public IReadOnlyList<PartitionVector>? Vectors { get; init; }

    /// <summary>The point-in-time statistics of each candidate (8 floats each), or null when the model does not read them.</summary>
    public IReadOnlyList<float[]>? Stats { get; init; }

    /// <summary>Whether shifts are dropped (the <c>single</c> variant reads one summary per user).</summary>
    public bool SummariesOnly { get; init; }

    /// <summary>
    /// How many of the last <paramref name="p"/> of <paramref name="partitions"/> are read, after checking that each has
    /// <paramref name="d"/> floats (before a forward slot is taken, so a bad request never holds one).
    /// </summary>
    public static int Visible(IReadOnlyList<PartitionVector>? partitions, int p, int d)
    {
        int count = partitions?.Count ?? 0;
        int n = Math.Min(p, count), from = count - n;
        for (int j = from; j < count; j++)
        {
            PartitionVector v = partitions![j] ?? throw new ArgumentException($"partitions[{j}] is null", nameof(partitions));
            if (v.Summary is null || v.Summary.Length != d || (v.Shift is not null && v.Shift.Length != d))
            {
                throw new ArgumentException(
                    $"partitions[{j}]: vectors must have {d} floats (the checkpoint's encoder dimension), got summary {v.Summary?.Length ?? 0}, shift {v.Shift?.Length ?? 0}", nameof(partitions));
            }
        }

        return n;
    }

    /// <summary>
    /// The partition table as tensors in the caller's dispose scope (row 0 zeros, rows 1..n the partitions oldest first),
    /// or null without fusion. Vectors are copied straight into the tensors' native memory.
    /// </summary>
    public PartitionTable? CreateTable(int d)
    {
        if (Partitions < 0)
        {
            return null;
        }

        int n = Partitions, from = (Vectors?.Count ?? 0) - n;
        Tensor sumT = zeros(n + 1, d), shiftT = zeros(n + 1, d), hasT = zeros(n + 1, ScalarType.Bool);
        Span<float> sum = Floats(sumT), shift = Floats(shiftT);
        Span<bool> has = n == 0 ? [] : MemoryMarshal.Cast<byte, bool>(hasT.bytes);
        for (int j = 0; j < n; j++)
        {
            PartitionVector v = Vectors![from + j];
            v.Summary.CopyTo(sum.Slice((j + 1) * d, d));
            if (v.Shift is not null && !SummariesOnly)
            {
                v.Shift.CopyTo(shift.Slice((j + 1) * d, d));
                has[j + 1] = true;
            }
        }

        return new PartitionTable(sumT, shiftT, hasT);
    }

    private static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);
}

/// <summary>
/// The online <see cref="IBatchSource"/>: one user against N candidates. Every sample shares the user, the history and
/// the partitions, so the writer writes them once and expands them (the backbones then compute the history once).
/// Events are the positions of the request's history window.
/// </summary>
internal readonly struct RequestSource(ScoringRequest request, PartitionTable? table) : IBatchSource
{
    public int Count => request.Targets.Length;

    public bool SharesUser => true;

    public PartitionTable? Partitions => table;

    public int User(int sample) => request.User;

    public ReadOnlySpan<long> UserFields(int sample) => request.UserFields.Span;

    public long Item(int sample) => request.Targets[sample].Code;

    public ReadOnlySpan<long> ItemCategories(int sample) => request.Targets[sample].Cats;

    public ReadOnlySpan<long> ItemFields(int sample) => request.Targets[sample].Fields;

    public float Label(int sample) => 0;

    public Range Events(int sample) => new(0, request.Past.Length);

    public long EventItem(int e) => request.Past[e].Code;

    public ReadOnlySpan<long> EventCategories(int e) => request.Past[e].Cats;

    public float EventRating(int e) => request.Ratings[e];

    public ReadOnlySpan<float> Stats(int sample) =>
        (request.Stats ?? throw new InvalidOperationException("the model reads the point-in-time statistics but the request has none"))[sample];

    public int Search(int sample, Span<int> found)
    {
        // A scan backwards over the window (the offline collator searches its per-user category index): the most recent
        // entries sharing a category with the candidate, oldest first.
        ReadOnlySpan<long> want = request.Targets[sample].Cats;
        ItemCodes[] past = request.Past;
        int n = 0;
        for (int r = past.Length - 1; r >= 0 && n < found.Length; r--)
        {
            if (SharesCategory(past[r].Cats, want))
            {
                found[n++] = r;
            }
        }

        found[..n].Reverse();
        return n;
    }

    public int PartitionRows(int sample, Span<long> rows)
    {
        rows.Clear();
        int n = Math.Min(rows.Length, request.Partitions);
        for (int j = 0; j < n; j++)
        {
            rows[j] = j + 1;
        }

        return n;
    }

    private static bool SharesCategory(ReadOnlySpan<long> a, ReadOnlySpan<long> b)
    {
        foreach (long x in a)
        {
            if (x > 0 && b.Contains(x))
            {
                return true;
            }
        }

        return false;
    }
}
