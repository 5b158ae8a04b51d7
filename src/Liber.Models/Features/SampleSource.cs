using Liber.Core.Streams;
using Liber.Models.Fusion;

namespace Liber.Models.Features;

/// <summary>
/// The offline <see cref="IBatchSource"/>: samples of a <see cref="SampleSet"/> given by ordinal. Events are rows of the
/// user streams (a sample's history is the rows of its user before its own, never stored per sample); codes come from the
/// flat <see cref="FeatureTables"/>; LIBER's rows are looked up through (user, cut-off index) in a <see cref="PartitionVectors"/> table.
/// </summary>
internal readonly ref struct SampleSource : IBatchSource
{
    private readonly SampleSet _samples;
    private readonly FeatureTables _tables;
    private readonly CategoryIndex? _search;
    private readonly PartitionVectors? _liber;
    private readonly ReadOnlySpan<int> _ordinals;
    private readonly ReadOnlySpan<int> _streamItems;
    private readonly ReadOnlySpan<float> _ratings;
    private readonly PointInTimeStats? _stats;
    private readonly int _c;

    public SampleSource(SampleSet samples, FeatureTables tables, CategoryIndex? search, PartitionVectors? liber, ReadOnlySpan<int> ordinals, PointInTimeStats? stats = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        _stats = stats;
        _samples = samples;
        _tables = tables;
        _search = search;
        _liber = liber;
        _ordinals = ordinals;
        _streamItems = samples.Streams.Items;
        _ratings = samples.Streams.Ratings;
        _c = tables.Map.MaxCategories;
        Partitions = liber is null ? null : new PartitionTable(liber.Summaries, liber.Shifts, liber.HasShift);
    }

    public int Count => _ordinals.Length;

    public bool SharesUser => false;

    public PartitionTable? Partitions { get; }

    public int User(int sample) => _samples[_ordinals[sample]].User;

    public ReadOnlySpan<long> UserFields(int sample)
    {
        int fu = _tables.Map.UserFields.Count;
        return _tables.UserFields.AsSpan(User(sample) * fu, fu);
    }

    // The target: the event's item, or for a drawn negative of implicit data the drawn item.
    public long Item(int sample) => Target(sample) + 1;

    public ReadOnlySpan<long> ItemCategories(int sample) => _tables.ItemCategories.AsSpan(Target(sample) * _c, _c);

    public ReadOnlySpan<long> ItemFields(int sample)
    {
        int fi = _tables.Map.ItemFields.Count;
        return _tables.ItemFields.AsSpan(Target(sample) * fi, fi);
    }

    public float Label(int sample) => _samples.Label(_ordinals[sample]);

    public Range Events(int sample)
    {
        (int user, _, int row) = _samples[_ordinals[sample]];
        return new Range(_samples.Streams.Offsets[user], row);
    }

    public long EventItem(int e) => _streamItems[e] + 1;

    public ReadOnlySpan<long> EventCategories(int e) => _tables.ItemCategories.AsSpan(_streamItems[e] * _c, _c);

    public float EventRating(int e) => _ratings[e] / _tables.RatingScale;

    public int Search(int sample, Span<int> found)
    {
        (int user, _, int row) = _samples[_ordinals[sample]];
        CategoryIndex index = _search ?? throw new InvalidOperationException("the category search needs the collator's category index");
        return index.Search(user, row, ItemCategories(sample), found);
    }

    public ReadOnlySpan<float> Stats(int sample) =>
        (_stats ?? throw new InvalidOperationException("the batch needs the point-in-time statistics but the collator has none")).Sample(_samples, _ordinals[sample]);

    public int PartitionRows(int sample, Span<long> rows)
    {
        (int user, int index, _) = _samples[_ordinals[sample]];
        return _liber!.Lookup(user, index, rows);
    }

    private int Target(int sample) => _samples.TargetItem(_ordinals[sample]);
}
