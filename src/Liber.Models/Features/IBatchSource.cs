using static TorchSharp.torch;

namespace Liber.Models.Features;

/// <summary>
/// What a <see cref="BatchWriter"/> reads one batch from, sample by sample, already coded for the model (0 = padding
/// or missing, dense id x as x + 1). Two sources exist: the offline <see cref="SampleSource"/> (a sample set's streams
/// cut at each sample, and the partition table) and the online scorer's request (one user's history list, N candidate
/// items and the partition vectors the caller passes). Events are numbered by the source; a sample's history is the
/// range of events before it, oldest first, of which the writer reads the last L (or T).
/// </summary>
public interface IBatchSource
{
    /// <summary>B, the number of samples.</summary>
    int Count { get; }

    /// <summary>
    /// Whether every sample has the same user, history and partitions (one user's request over N candidates): the
    /// writer then writes those once and expands them over the batch (stride 0, see <see cref="SharedRows"/>).
    /// </summary>
    bool SharesUser { get; }

    /// <summary>The dense user id of a sample, or -1 for a user the model does not know (code 0).</summary>
    int User(int sample);

    /// <summary>The user's profile field codes (Fu).</summary>
    ReadOnlySpan<long> UserFields(int sample);

    /// <summary>The target item's code.</summary>
    long Item(int sample);

    /// <summary>The target item's category codes (C).</summary>
    ReadOnlySpan<long> ItemCategories(int sample);

    /// <summary>The target item's field codes (Fi).</summary>
    ReadOnlySpan<long> ItemFields(int sample);

    /// <summary>The label (0 where there is none, as online).</summary>
    float Label(int sample);

    /// <summary>The events strictly before the sample, oldest first.</summary>
    Range Events(int sample);

    /// <summary>An event's item code.</summary>
    long EventItem(int e);

    /// <summary>An event's item category codes (C).</summary>
    ReadOnlySpan<long> EventCategories(int e);

    /// <summary>An event's rating scaled to [0, 1].</summary>
    float EventRating(int e);

    /// <summary>
    /// SIM's general search unit: writes the most recent events before the sample that share a category with its target
    /// (at most <c>found.Length</c>), oldest first; returns how many.
    /// </summary>
    int Search(int sample, Span<int> found);

    /// <summary>The sample's point-in-time statistics (<see cref="Liber.Core.Streams.PointInTimeStats.Width"/> floats), read only when the writer writes them.</summary>
    ReadOnlySpan<float> Stats(int sample);

    /// <summary>The table LIBER's rows point into, or null when the batch has no LIBER input.</summary>
    PartitionTable? Partitions { get; }

    /// <summary>Writes the table rows of the sample's visible partitions into <paramref name="rows"/> (P), left-aligned oldest first; returns how many.</summary>
    int PartitionRows(int sample, Span<long> rows);
}

/// <summary>[N + 1, D] partition vectors a batch's LIBER rows point into (row 0 is the zero padding row); borrowed, never owned by a batch.</summary>
/// <param name="Summaries">[N + 1, D] float32 summary vectors.</param>
/// <param name="Shifts">[N + 1, D] float32 shift vectors (zeros where a partition has none).</param>
/// <param name="HasShift">[N + 1] bool: whether the row has a shift vector.</param>
public sealed record PartitionTable(Tensor Summaries, Tensor Shifts, Tensor HasShift);
