using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Fusion;
using Liber.Models.Layers;
using Liber.Testing;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>
/// The one batch writer: a source whose samples share one user (online ranking) gets its history, recent long history
/// and partitions written once and expanded (stride 0), and every backbone scores that batch as it scores the copied one,
/// computing the shared history once.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class BatchWriterTests
{
    private const int Candidates = 9;

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>A sample late in a user's stream (a full history, several visible partitions) as the (user, index, row) it is.</summary>
    private static (int User, int Index, int Row) LateSample()
    {
        SampleSet samples = Fixture.Samples;
        for (int o = samples.Count - 1; o >= 0; o--)
        {
            (int user, int index, int row) = samples[o];
            if (index > 3 * samples.Options.HistoryLength && Fixture.Partitions.VisibleCount(user, index) >= 3)
            {
                return (user, index, row);
            }
        }

        throw new InvalidOperationException("the fixture has no late sample");
    }

    [Fact]
    public void A_shared_user_is_written_once_and_expanded_with_the_values_of_the_copied_batch()
    {
        using var scope = NewDisposeScope();
        using PartitionVectors vectors = Fixture.RandomVectors();
        var request = new LongHistoryRequest(LongHistoryKind.Recent, 20);
        var writer = new BatchWriter(Fixture.Tables.Map, request, Fixture.Tables.Map.MaxPartitions);
        (int user, int index, int row) = LateSample();
        CtrBatch shared = writer.Write(new OneUserSource(user, index, row, vectors, shares: true));
        CtrBatch copied = writer.Write(new OneUserSource(user, index, row, vectors, shares: false));

        Tensor[] sharedRows = [shared.HistoryItems, shared.HistoryCategories, shared.HistoryRatings, shared.HistoryMask,
            shared.LongHistory!.Items, shared.LongHistory.Ratings, shared.LongHistory.Mask, shared.Liber!.Rows!, shared.Liber.Mask, shared.Liber.Ranks, shared.Liber.ShiftMask];
        Tensor[] copiedRows = [copied.HistoryItems, copied.HistoryCategories, copied.HistoryRatings, copied.HistoryMask,
            copied.LongHistory!.Items, copied.LongHistory.Ratings, copied.LongHistory.Mask, copied.Liber!.Rows!, copied.Liber.Mask, copied.Liber.Ranks, copied.Liber.ShiftMask];
        for (int k = 0; k < sharedRows.Length; k++)
        {
            Assert.True(SharedRows.IsExpanded(sharedRows[k]), $"shared tensor {k} is not expanded");
            Assert.False(SharedRows.IsExpanded(copiedRows[k]), $"copied tensor {k} is expanded");
            Assert.True(Same(sharedRows[k], copiedRows[k]), $"tensor {k} differs");
        }

        Assert.Equal(Fixture.Tables.Map.HistoryLength, shared.HistoryMask[0].sum().item<long>());
        Assert.True(shared.Liber.Mask[0].sum().item<long>() >= 3);
        Assert.True(Same(shared.Items, copied.Items));
        Assert.Equal(Candidates, shared.Size);
    }

    [Fact]
    public void The_long_history_carries_the_ratings_of_its_events()
    {
        using var scope = NewDisposeScope();
        int l = Fixture.Tables.Map.HistoryLength, t = 20;
        var writer = new BatchWriter(Fixture.Tables.Map, new LongHistoryRequest(LongHistoryKind.Recent, t), 0);
        (int user, int index, int row) = LateSample();
        CtrBatch batch = writer.Write(new OneUserSource(user, index, row, null, shares: false));
        float[] longRatings = batch.LongHistory!.Ratings[0].data<float>().ToArray();
        float[] shortRatings = batch.HistoryRatings[0].data<float>().ToArray();
        // Both are full (a late sample): the short history is the long one's last L entries, ratings included.
        Assert.True(longRatings.All(r => r > 0), "a real long-history entry has rating 0");
        Approx.Equal(shortRatings, longRatings.AsSpan(t - l));
        int first = Fixture.Samples.Streams.Row(user, index - t);
        Approx.Equal(Fixture.Samples.Streams.Ratings[first] / Fixture.Tables.RatingScale, longRatings[0]);
    }

    [Fact]
    public void The_feature_map_records_the_liked_threshold_on_the_scaled_ratings()
    {
        // The label is rating >= threshold; history entries are split by the same test on ratings / scale maximum.
        FeatureMap map = Fixture.Tables.Map;
        Approx.Equal(Fixture.Tables.RatingScale, map.RatingScale);
        Approx.Equal(Fixture.Samples.Threshold / Fixture.Tables.RatingScale, map.LikedRating);
        using var embeddings = new FeatureEmbeddings(map, 4);
        using var scope = NewDisposeScope();
        float[] ratings = [0f, 1f / 5, 3f / 5, 4f / 5, 1f];
        bool[] liked = embeddings.Liked(tensor(ratings)).data<bool>().ToArray();
        Assert.Equal(ratings.Select(r => r > 0 && r * map.RatingScale >= Fixture.Samples.Threshold - 1e-3), liked);
    }

    [Fact]
    public void The_category_search_stays_per_candidate_when_the_user_is_shared()
    {
        using var scope = NewDisposeScope();
        var writer = new BatchWriter(Fixture.Tables.Map, new LongHistoryRequest(LongHistoryKind.CategorySearch, 6), 0);
        (int user, int index, int row) = LateSample();
        CtrBatch shared = writer.Write(new OneUserSource(user, index, row, null, shares: true));
        CtrBatch copied = writer.Write(new OneUserSource(user, index, row, null, shares: false));
        Assert.False(SharedRows.IsExpanded(shared.LongHistory!.Items));
        Assert.True(Same(shared.LongHistory.Items, copied.LongHistory!.Items));
        Assert.True(SharedRows.IsExpanded(shared.HistoryItems));
    }

    [Fact]
    public void Item_vectors_of_an_expanded_history_are_computed_once()
    {
        TorchRuntime.Configure(threads: 1, seed: 3);
        using var scope = NewDisposeScope();
        using var embeddings = new FeatureEmbeddings(Fixture.Tables.Map, 4);
        int l = 5, c = Fixture.Tables.Map.MaxCategories;
        Tensor items = randint(1, Fixture.Tables.Map.Items, [1, l]), cats = randint(0, Fixture.Tables.Map.CategoryVocabulary, [1, l, c]);
        Tensor once = embeddings.ItemVectors(items.expand(7, l), cats.expand(7, l, c));
        Tensor copied = embeddings.ItemVectors(items.expand(7, l).contiguous(), cats.expand(7, l, c).contiguous());
        Assert.True(SharedRows.IsExpanded(once));
        Assert.Equal(copied.shape, once.shape);
        Approx.Equal(copied.data<float>().ToArray(), once.contiguous().data<float>().ToArray());
    }

    [Theory]
    [MemberData(nameof(CatalogTheoryTests.Cases), MemberType = typeof(CatalogTheoryTests))]
    public void Every_backbone_scores_a_shared_user_as_the_copied_batch(string backbone, bool liber)
    {
        TorchRuntime.Configure(threads: 1, seed: 17);
        var config = new ModelConfig
        {
            Backbone = backbone,
            Options = new BackboneOptions { EmbeddingSize = 8, Hidden = [32, 16], AttentionHidden = [16], LongLength = 30, SearchLength = 10, Stats = false },
            Fusion = liber ? new FusionOptions { InputSize = Fixture.Dimension, HiddenSize = 8, OutputSize = 8, MaxPartitions = Fixture.Tables.Map.MaxPartitions } : null,
        };
        using var model = new CtrModel(Fixture.Tables.Map, config);
        model.eval();
        using PartitionVectors? vectors = liber ? Fixture.RandomVectors() : null;
        var writer = new BatchWriter(Fixture.Tables.Map, model.LongHistory, liber ? Fixture.Tables.Map.MaxPartitions : 0);
        (int user, int index, int row) = LateSample();
        using var grad = no_grad();
        using var scope = NewDisposeScope();
        CtrBatch shared = writer.Write(new OneUserSource(user, index, row, vectors, shares: true));
        CtrBatch copied = writer.Write(new OneUserSource(user, index, row, vectors, shares: false));
        Assert.True(SharedRows.IsExpanded(shared.HistoryItems));
        float[] once = model.call(shared).data<float>().ToArray();
        float[] perCandidate = model.call(copied).data<float>().ToArray();
        Assert.Equal(Candidates, once.Length);
        Assert.True(once.Distinct().Count() > 1, "candidates should score differently");
        Approx.Equal(perCandidate, once);
    }

    /// <summary>One user's sample (history before <c>row</c>, partitions visible at <c>index</c>) against several candidate items.</summary>
    private sealed class OneUserSource(int user, int index, int row, PartitionVectors? vectors, bool shares) : IBatchSource
    {
        private readonly FeatureTables _tables = Fixture.Tables;
        private readonly int[] _candidates = [.. Enumerable.Range(0, Candidates).Select(k => (k * 11) % Fixture.Tables.Map.Items)];

        public int Count => Candidates;

        public bool SharesUser => shares;

        public PartitionTable? Partitions => vectors is null ? null : new PartitionTable(vectors.Summaries, vectors.Shifts, vectors.HasShift);

        private int C => _tables.Map.MaxCategories;

        public int User(int sample) => user;

        public ReadOnlySpan<long> UserFields(int sample) => _tables.UserFields.AsSpan(user * _tables.Map.UserFields.Count, _tables.Map.UserFields.Count);

        public long Item(int sample) => _candidates[sample] + 1;

        public ReadOnlySpan<long> ItemCategories(int sample) => _tables.ItemCategories.AsSpan(_candidates[sample] * C, C);

        public ReadOnlySpan<long> ItemFields(int sample) => _tables.ItemFields.AsSpan(_candidates[sample] * _tables.Map.ItemFields.Count, _tables.Map.ItemFields.Count);

        public float Label(int sample) => sample % 2;

        public Range Events(int sample) => new(Fixture.Samples.Streams.Offsets[user], row);

        public long EventItem(int e) => Fixture.Samples.Streams.Items[e] + 1;

        public ReadOnlySpan<long> EventCategories(int e) => _tables.ItemCategories.AsSpan(Fixture.Samples.Streams.Items[e] * C, C);

        public float EventRating(int e) => Fixture.Samples.Streams.Ratings[e] / _tables.RatingScale;

        public int Search(int sample, Span<int> found)
        {
            ReadOnlySpan<long> want = ItemCategories(sample);
            int n = 0;
            for (int e = row - 1; e >= Fixture.Samples.Streams.Offsets[user] && n < found.Length; e--)
            {
                foreach (long code in EventCategories(e))
                {
                    if (code > 0 && want.Contains(code))
                    {
                        found[n++] = e;
                        break;
                    }
                }
            }

            found[..n].Reverse();
            return n;
        }

        public ReadOnlySpan<float> Stats(int sample) => throw new NotSupportedException("no statistics in this test");

        public int PartitionRows(int sample, Span<long> rows) => vectors!.Lookup(user, index, rows);
    }
}
