using static TorchSharp.torch;

namespace Liber.Models.Features;

/// <summary>
/// One batch of B CTR samples as tensors, built by the collator. Id tensors are int64 with 0 = padding /
/// missing and dense id x stored as x + 1 (see <see cref="FeatureMap"/>). Masks are bool, true = a real
/// entry. Histories are left-aligned oldest first: entry j of a row with n valid entries is its
/// (n - j)-th most recent event, entries n.. are padding.
/// </summary>
/// <remarks>
/// The batch owns its tensors: dispose it (or create it inside a dispose scope) when the step is done.
/// </remarks>
public sealed class CtrBatch : IDisposable
{
    /// <summary>Number of samples B.</summary>
    public required int Size { get; init; }

    /// <summary>[B] int64: user ids (+1).</summary>
    public required Tensor Users { get; init; }

    /// <summary>[B, Fu] int64: user profile field codes, columns as <see cref="FeatureMap.UserFields"/> (Fu may be 0).</summary>
    public required Tensor UserFields { get; init; }

    /// <summary>[B] int64: target item ids (+1).</summary>
    public required Tensor Items { get; init; }

    /// <summary>[B, C] int64: target item category ids (+1), padded with 0.</summary>
    public required Tensor ItemCategories { get; init; }

    /// <summary>[B, Fi] int64: target item field codes, columns as <see cref="FeatureMap.ItemFields"/> (Fi may be 0).</summary>
    public required Tensor ItemFields { get; init; }

    /// <summary>[B, L] int64: item ids (+1) of the last L events before the sample, padded with 0.</summary>
    public required Tensor HistoryItems { get; init; }

    /// <summary>[B, L, C] int64: category ids (+1) of the history items.</summary>
    public required Tensor HistoryCategories { get; init; }

    /// <summary>[B, L] float32: ratings of the history events scaled to [0, 1] by the data set's scale (0 on padding).</summary>
    public required Tensor HistoryRatings { get; init; }

    /// <summary>[B, L] bool: true where the history entry is real.</summary>
    public required Tensor HistoryMask { get; init; }

    /// <summary>
    /// The long history the backbone asked for through <see cref="Backbones.CtrBackbone.LongHistory"/>, or null:
    /// the T most recent events before the sample, or SIM's category search.
    /// </summary>
    public SequenceInput? LongHistory { get; init; }

    /// <summary>LIBER's partition vectors of the visible partitions, or null when the model has no fusion.</summary>
    public LiberInput? Liber { get; init; }

    /// <summary>[B, 8] float32: the point-in-time statistics of each sample, or null when the model does not read them.</summary>
    public Tensor? Stats { get; init; }

    /// <summary>[B] float32: labels 0/1.</summary>
    public required Tensor Labels { get; init; }

    /// <summary>Dense user id of each sample, on the host (for GAUC).</summary>
    public required int[] UserIds { get; init; }

    /// <summary>Moves every tensor to a device (returns a new batch; this one still owns its tensors).</summary>
    public CtrBatch To(Device device) => new()
    {
        Size = Size,
        Users = Users.to(device),
        UserFields = UserFields.to(device),
        Items = Items.to(device),
        ItemCategories = ItemCategories.to(device),
        ItemFields = ItemFields.to(device),
        HistoryItems = HistoryItems.to(device),
        HistoryCategories = HistoryCategories.to(device),
        HistoryRatings = HistoryRatings.to(device),
        HistoryMask = HistoryMask.to(device),
        LongHistory = LongHistory?.To(device),
        Liber = Liber?.To(device),
        Stats = Stats?.to(device),
        Labels = Labels.to(device),
        UserIds = UserIds,
    };

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (Tensor t in new[] { Users, UserFields, Items, ItemCategories, ItemFields, HistoryItems, HistoryCategories, HistoryRatings, HistoryMask, Labels })
        {
            t.Dispose();
        }

        LongHistory?.Dispose();
        Liber?.Dispose();
        Stats?.Dispose();
    }
}

/// <summary>A sequence of events as tensors: [B, T] items, [B, T, C] categories, [B, T] ratings, [B, T] mask; left-aligned, oldest first.</summary>
public sealed class SequenceInput : IDisposable
{
    /// <summary>[B, T] int64 item ids (+1), 0 on padding.</summary>
    public required Tensor Items { get; init; }

    /// <summary>[B, T, C] int64 category ids (+1).</summary>
    public required Tensor Categories { get; init; }

    /// <summary>[B, T] float32: ratings scaled to [0, 1] as in <see cref="CtrBatch.HistoryRatings"/> (0 on padding).</summary>
    public required Tensor Ratings { get; init; }

    /// <summary>[B, T] bool: true where the entry is real.</summary>
    public required Tensor Mask { get; init; }

    /// <summary>Moves the tensors to a device.</summary>
    public SequenceInput To(Device device) => new() { Items = Items.to(device), Categories = Categories.to(device), Ratings = Ratings.to(device), Mask = Mask.to(device) };

    /// <summary>Moves the tensors out of the current dispose scope.</summary>
    public void MoveToOuterDisposeScope()
    {
        Items.MoveToOuterDisposeScope();
        Categories.MoveToOuterDisposeScope();
        Ratings.MoveToOuterDisposeScope();
        Mask.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Items.Dispose();
        Categories.Dispose();
        Ratings.Dispose();
        Mask.Dispose();
    }
}

/// <summary>
/// LIBER's input for one batch: the frozen encoder vectors of each sample's visible partitions
/// (protocol: the P most recent with End &lt; index). Slots are left-aligned oldest first; slot j of a sample
/// with n visible partitions holds the partition of recency rank n - 1 - j.
/// Two forms: <em>dense</em> (<see cref="Summaries"/> and <see cref="Shifts"/> hold [B, P, D] vectors, as online
/// scoring builds them) and <em>table</em> (<see cref="Rows"/> holds [B, P] row numbers into the borrowed
/// [N + 1, D] tables of a <see cref="Fusion.PartitionVectors"/>, as the collator builds them, so that a batch
/// never copies B x P vectors of which the fusion reads only the visible ones).
/// </summary>
public sealed class LiberInput : IDisposable
{
    /// <summary>Dense form: [B, P, D] float32 summary vectors (zeros on padding); null in the table form.</summary>
    public Tensor? Summaries { get; init; }

    /// <summary>Dense form: [B, P, D] float32 shift vectors (zeros on padding and on a user's first partition); null in the table form.</summary>
    public Tensor? Shifts { get; init; }

    /// <summary>Table form: [B, P] int64 rows into <see cref="SummaryTable"/> and <see cref="ShiftTable"/> (0, the zero row, on padding); null in the dense form.</summary>
    public Tensor? Rows { get; init; }

    /// <summary>Table form: the [N + 1, D] summary table the rows point into (borrowed: never moved or disposed with the batch).</summary>
    public Tensor? SummaryTable { get; init; }

    /// <summary>Table form: the [N + 1, D] shift table the rows point into (borrowed).</summary>
    public Tensor? ShiftTable { get; init; }

    /// <summary>[B, P] bool: true where the partition has a shift vector.</summary>
    public required Tensor ShiftMask { get; init; }

    /// <summary>[B, P] bool: true where the slot holds a visible partition.</summary>
    public required Tensor Mask { get; init; }

    /// <summary>[B, P] int64: recency rank (0 = the most recent visible partition); P on padding.</summary>
    public required Tensor Ranks { get; init; }

    /// <summary>Whether the input is in the table form.</summary>
    public bool IsTable => Rows is not null;

    /// <summary>The summary vectors of the slots as [B, P, D] (gathered from the table in the table form).</summary>
    public Tensor SlotSummaries() => Dense(Summaries, SummaryTable);

    /// <summary>The shift vectors of the slots as [B, P, D] (gathered from the table in the table form).</summary>
    public Tensor SlotShifts() => Dense(Shifts, ShiftTable);

    /// <summary>The summary vectors [N, D] of the flat slots <paramref name="slots"/> (indices into B x P).</summary>
    public Tensor SummariesAt(Tensor slots) => At(Summaries, SummaryTable, slots);

    /// <summary>The shift vectors [N, D] of the flat slots <paramref name="slots"/> (indices into B x P).</summary>
    public Tensor ShiftsAt(Tensor slots) => At(Shifts, ShiftTable, slots);

    /// <summary>Moves the input to a device (the table form is gathered into the dense form first, so that no table is copied per batch).</summary>
    public LiberInput To(Device device) => new()
    {
        Summaries = SlotSummaries().to(device),
        Shifts = SlotShifts().to(device),
        ShiftMask = ShiftMask.to(device),
        Mask = Mask.to(device),
        Ranks = Ranks.to(device),
    };

    /// <summary>Moves the batch's own tensors out of the current dispose scope (borrowed tables are not touched).</summary>
    public void MoveToOuterDisposeScope()
    {
        Summaries?.MoveToOuterDisposeScope();
        Shifts?.MoveToOuterDisposeScope();
        Rows?.MoveToOuterDisposeScope();
        ShiftMask.MoveToOuterDisposeScope();
        Mask.MoveToOuterDisposeScope();
        Ranks.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Summaries?.Dispose();
        Shifts?.Dispose();
        Rows?.Dispose();
        ShiftMask.Dispose();
        Mask.Dispose();
        Ranks.Dispose();
    }

    private Tensor Dense(Tensor? dense, Tensor? table)
    {
        if (dense is not null)
        {
            return dense;
        }

        Tensor rows = Rows ?? throw new InvalidOperationException("LiberInput holds neither vectors nor rows");
        Tensor t = table ?? throw new InvalidOperationException("LiberInput has rows but no table");
        return t.index_select(0, rows.reshape(-1)).view(rows.shape[0], rows.shape[1], t.shape[1]);
    }

    private Tensor At(Tensor? dense, Tensor? table, Tensor slots)
    {
        if (dense is not null)
        {
            return dense.reshape(dense.shape[0] * dense.shape[1], dense.shape[2]).index_select(0, slots);
        }

        Tensor rows = Rows ?? throw new InvalidOperationException("LiberInput holds neither vectors nor rows");
        Tensor t = table ?? throw new InvalidOperationException("LiberInput has rows but no table");
        return t.index_select(0, rows.reshape(-1).index_select(0, slots));
    }
}
