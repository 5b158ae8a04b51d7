using Liber.Core.Partitioning;
using static TorchSharp.torch;

namespace Liber.Models.Fusion;

/// <summary>
/// The frozen encoder vectors of every closed partition (summary and shift, dimension D), aligned with
/// <see cref="PartitionSet.All"/>, held once as [N + 1, D] tensors (row 0 is the zero padding row). The
/// collator looks up a sample's visible partitions through (user, number visible) and gathers rows with
/// one native index_select per batch: vectors are never copied per sample, never computed in the loop.
/// A user's first partition has no shift: its shift row is zero and its shift flag false.
/// The per-user variant (<see cref="PerUser"/>) holds one vector per user for the <c>single</c> fusion.
/// </summary>
public sealed class PartitionVectors : IDisposable
{
    private readonly PartitionSet? _set;
    private readonly int[] _userStart;
    private readonly bool[] _userPresent;

    private PartitionVectors(PartitionSet? set, int[] userStart, bool[] userPresent, Tensor summaries, Tensor shifts, Tensor hasShift, int dimension)
    {
        _set = set;
        _userStart = userStart;
        _userPresent = userPresent;
        Summaries = summaries;
        Shifts = shifts;
        HasShift = hasShift;
        Dimension = dimension;
    }

    /// <summary>D, the vector width.</summary>
    public int Dimension { get; }

    /// <summary>
    /// The category names of the <c>stats</c> encoder's vectors, in column order, and its decade count, when the vectors are
    /// statistics vectors (null for text encodings); the <c>stats-readout</c> fusion reads their columns by position.
    /// </summary>
    public (IReadOnlyList<string> Categories, int Decades)? StatsLayout { get; set; }

    /// <summary>Whether this is the per-user table of the <c>single</c> variant.</summary>
    public bool IsPerUser => _set is null;

    /// <summary>[N + 1, D] summary vectors; row r + 1 is partition r of <see cref="PartitionSet.All"/> (or user r).</summary>
    public Tensor Summaries { get; }

    /// <summary>[N + 1, D] shift vectors (zeros where a partition has none).</summary>
    public Tensor Shifts { get; }

    /// <summary>[N + 1] bool: whether the row has a shift vector.</summary>
    public Tensor HasShift { get; }

    /// <summary>
    /// Builds the table of a partition set. <paramref name="summaries"/> and <paramref name="shifts"/> are flat
    /// row-major [set.Count x dimension] arrays aligned with <see cref="PartitionSet.All"/>; <paramref name="shifts"/>
    /// may be null (no shift texts). Shift rows of first partitions are ignored (set to zero).
    /// </summary>
    public static PartitionVectors FromPartitions(PartitionSet set, float[] summaries, float[]? shifts, int dimension)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        long expected = (long)set.Count * dimension;
        if (summaries.Length != expected || (shifts is not null && shifts.Length != expected))
        {
            throw new ArgumentException($"partition vectors: expected {set.Count} partitions x {dimension} = {expected} floats, got summaries {summaries.Length}, shifts {shifts?.Length ?? 0}");
        }

        int n = set.Count;
        var userStart = new int[set.UserCount + 1];
        for (int u = 0; u < set.UserCount; u++)
        {
            userStart[u + 1] = userStart[u] + set.Of(u).Length;
        }

        var sum = new float[(n + 1) * dimension];
        var shift = new float[(n + 1) * dimension];
        var has = new bool[n + 1];
        summaries.CopyTo(sum, dimension);
        IReadOnlyList<Partition> all = set.All;
        for (int r = 0; r < n; r++)
        {
            if (all[r].Number > 0 && shifts is not null)
            {
                has[r + 1] = true;
                Array.Copy(shifts, (long)r * dimension, shift, (long)(r + 1) * dimension, dimension);
            }
        }

        return new PartitionVectors(set, userStart, [], tensor(sum, n + 1, dimension), tensor(shift, n + 1, dimension), tensor(has), dimension);
    }

    /// <summary>
    /// Builds the per-user table of the <c>single</c> variant: <paramref name="vectors"/> is flat [users x dimension];
    /// users whose <paramref name="present"/> entry is false (no text) get a masked slot. Null means all present.
    /// </summary>
    public static PartitionVectors PerUser(int users, float[] vectors, int dimension, bool[]? present = null)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (vectors.Length != (long)users * dimension || (present is not null && present.Length != users))
        {
            throw new ArgumentException($"per-user vectors: expected {users} users x {dimension} = {(long)users * dimension} floats, got {vectors.Length}");
        }

        var sum = new float[(users + 1) * dimension];
        vectors.CopyTo(sum, dimension);
        var userPresent = present?.ToArray() ?? Enumerable.Repeat(true, users).ToArray();
        return new PartitionVectors(null, [], userPresent, tensor(sum, users + 1, dimension), zeros(users + 1, dimension), zeros(users + 1, ScalarType.Bool), dimension);
    }

    /// <summary>
    /// Writes the table rows of the partitions a sample at (<paramref name="user"/>, <paramref name="index"/>) sees
    /// into <paramref name="rows"/> (length P): left-aligned oldest first, 0 (padding) after; returns how many are visible.
    /// Per-user tables write the user's row (P = 1) regardless of index.
    /// </summary>
    public int Lookup(int user, int index, Span<long> rows)
    {
        rows.Clear();
        if (_set is null)
        {
            if (!_userPresent[user])
            {
                return 0;
            }

            rows[0] = user + 1;
            return 1;
        }

        int visible = _set.VisibleCount(user, index);                          // partitions with End < index
        int from = Math.Max(0, visible - rows.Length);
        int count = visible - from;
        for (int j = 0; j < count; j++)
        {
            rows[j] = _userStart[user] + from + j + 1;
        }

        return count;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Summaries.Dispose();
        Shifts.Dispose();
        HasShift.Dispose();
    }
}
