using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Fusion;

namespace Liber.Models.Features;

/// <summary>
/// Builds <see cref="CtrBatch"/>es from sample ordinals of a <see cref="SampleSet"/> through the one
/// <see cref="BatchWriter"/> that online scoring uses too. Histories are read as row ranges of the user streams
/// (never stored per sample); item features come from the flat <see cref="FeatureTables"/>; LIBER's vectors are looked
/// up through (user, visible partitions) in a <see cref="PartitionVectors"/> table and gathered with one index_select
/// per batch by the fusion.
/// </summary>
public sealed class Collator
{
    private readonly SampleSet _samples;
    private readonly FeatureTables _tables;
    private readonly PartitionVectors? _liber;
    private readonly CategoryIndex? _search;
    private readonly BatchWriter _writer;
    private readonly PointInTimeStats? _stats;

    /// <summary>
    /// Creates a collator; <paramref name="longHistory"/> and <paramref name="liber"/> are supplied when the model needs them;
    /// with <paramref name="stats"/> batches carry the point-in-time statistics of the samples' streams (computed once here).
    /// </summary>
    public Collator(SampleSet samples, FeatureTables tables, LongHistoryRequest? longHistory = null, PartitionVectors? liber = null, bool stats = false)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(tables);
        _samples = samples;
        _tables = tables;
        _liber = liber;
        _writer = new BatchWriter(tables.Map, longHistory, liber is null ? 0 : liber.IsPerUser ? 1 : tables.Map.MaxPartitions, stats);
        _stats = stats ? PointInTimeStats.Compute(samples) : null;
        if (longHistory?.Kind == LongHistoryKind.CategorySearch)
        {
            _search = CategoryIndex.Build(samples.Streams, tables);
        }
    }

    /// <summary>P of the LIBER input (1 for a per-user table, 0 without LIBER).</summary>
    public int Slots => _writer.Slots;

    /// <summary>The point-in-time statistics the batches carry, or null.</summary>
    public PointInTimeStats? Stats => _stats;

    /// <summary>The samples.</summary>
    public SampleSet Samples => _samples;

    /// <summary>A collator for a model: its long history, and LIBER's vectors when it has fusion.</summary>
    public static Collator For(CtrModel model, SampleSet samples, FeatureTables tables, PartitionVectors? liber)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Fusion is not null && liber is null)
        {
            throw new ArgumentException($"model {model.Config.Backbone} has LIBER fusion ({model.Config.Fusion!.Variant}) but no partition vectors were given");
        }

        return new Collator(samples, tables, model.LongHistory, model.Fusion is null ? null : liber, model.Config.Options.Stats);
    }

    /// <summary>Builds the batch of the given sample ordinals.</summary>
    public CtrBatch Build(ReadOnlySpan<int> ordinals) => _writer.Write(new SampleSource(_samples, _tables, _search, _liber, ordinals, _stats));
}
