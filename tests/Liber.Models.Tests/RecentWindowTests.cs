using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Gbdt;
using Liber.Models.Layers;
using Liber.Models.Training;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>
/// The recent-window group (<see cref="RecentWindow"/>): its columns are the GBDT peer's short-term columns computed
/// independently on the host, a shared (expanded) history gives the same values as materialised rows, a model that
/// ignores ratings gets rating columns that say nothing, and a model with the group on builds and trains.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class RecentWindowTests
{
    private static readonly int[] Some = Enumerable.Range(0, 120).Select(i => i * 7 % Fixture.Samples.Count).ToArray();

    [Fact]
    public void Columns_equal_the_gbdt_peers_short_term_columns()
    {
        SampleSet samples = Fixture.Samples;
        FeatureTables tables = Fixture.Tables;
        var gbdt = new GbdtFeatures(samples, PointInTimeStats.Compute(samples.Streams, samples.Threshold), tables);
        using var scope = NewDisposeScope();
        CtrBatch batch = new Collator(samples, tables).Build(Some);
        float[] window = RecentWindow.Compute(batch, tables.Map.LikedRating, readRatings: true).data<float>().ToArray();
        var row = new float[gbdt.Width];
        int first = PointInTimeStats.Width;
        int differentShares = 0;
        for (int s = 0; s < Some.Length; s++)
        {
            gbdt.Write(Some[s], row);
            for (int k = 0; k < RecentWindow.Width; k++)
            {
                // GBDT columns 8.. are recent_events, recent_positive_rate, recent_mean_rating, recent_category_events,
                // recent_category_rate, last_rating (then last_gap, which the window group leaves out).
                Assert.True(Math.Abs(row[first + k] - window[(s * RecentWindow.Width) + k]) < 1e-4,
                    $"sample {Some[s]}, column {GbdtFeatures.ShortTermNames[k]}: gbdt {row[first + k]}, window {window[(s * RecentWindow.Width) + k]}");
            }

            differentShares += row[first + 1] is > 0.05f and < 0.95f ? 1 : 0;
        }

        Assert.True(differentShares > 10, $"the fixture should have mixed histories, {differentShares} of {Some.Length} are");
    }

    [Fact]
    public void A_shared_history_gives_the_values_of_materialised_rows()
    {
        SampleSet samples = Fixture.Samples;
        using var scope = NewDisposeScope();
        CtrBatch batch = new Collator(samples, Fixture.Tables).Build(Some);
        int b = batch.Size;
        Tensor Shared(Tensor t) => SharedRows.Expand(SharedRows.First(t), b);
        CtrBatch expanded = With(batch, Shared(batch.HistoryItems), Shared(batch.HistoryCategories), Shared(batch.HistoryRatings), Shared(batch.HistoryMask));
        CtrBatch copied = With(batch, Shared(batch.HistoryItems).contiguous(), Shared(batch.HistoryCategories).contiguous(), Shared(batch.HistoryRatings).contiguous(), Shared(batch.HistoryMask).contiguous());
        Assert.True(SharedRows.IsExpanded(expanded.HistoryMask));
        Assert.False(SharedRows.IsExpanded(copied.HistoryMask));
        float liked = Fixture.Tables.Map.LikedRating;
        float[] a = RecentWindow.Compute(expanded, liked, readRatings: true).data<float>().ToArray();
        float[] c = RecentWindow.Compute(copied, liked, readRatings: true).data<float>().ToArray();
        Assert.Equal(b * RecentWindow.Width, a.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(a[i] - c[i]) < 1e-6, $"value {i}: shared {a[i]}, materialised {c[i]}");
        }
    }

    [Fact]
    public void Without_ratings_the_rating_columns_are_constant()
    {
        SampleSet samples = Fixture.Samples;
        using var scope = NewDisposeScope();
        CtrBatch batch = new Collator(samples, Fixture.Tables).Build(Some);
        float[] w = RecentWindow.Compute(batch, Fixture.Tables.Map.LikedRating, readRatings: false).data<float>().ToArray();
        foreach (int k in new[] { 1, 2, 4, 5 })
        {
            // liked share, mean rating, liked share on the target's categories, last rating
            Assert.All(Enumerable.Range(0, batch.Size), s => Assert.Equal(0.5f, w[(s * RecentWindow.Width) + k]));
        }
    }

    [Theory]
    [InlineData("din")]
    [InlineData("deepfm")]
    public void A_model_with_the_group_on_is_wider_and_scores(string backbone)
    {
        var on = new ModelConfig { Backbone = backbone, Options = new BackboneOptions { Recent = true, Stats = false, EmbeddingSize = 8, Hidden = [16] } };
        var off = on with { Options = on.Options with { Recent = false } };
        using var scope = NewDisposeScope();
        using var withGroup = new CtrModel(Fixture.Tables.Map, on);
        using var without = new CtrModel(Fixture.Tables.Map, off);
        long Count(CtrModel m) => m.parameters().Sum(p => p.numel());
        Assert.Equal(Count(without) + (RecentWindow.Width * 16), Count(withGroup));
        CtrBatch batch = new Collator(Fixture.Samples, Fixture.Tables).Build(Some);
        Tensor logits = withGroup.call(batch);
        Assert.Equal([Some.Length], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void Config_files_leave_the_option_out_when_off_and_read_it_back()
    {
        string off = System.Text.Json.JsonSerializer.Serialize(new BackboneOptions());
        string on = System.Text.Json.JsonSerializer.Serialize(new BackboneOptions { Recent = true });
        Assert.DoesNotContain("\"recent\"", off, StringComparison.Ordinal);
        Assert.Contains("\"recent\":true", on, StringComparison.Ordinal);
        Assert.True(System.Text.Json.JsonSerializer.Deserialize<BackboneOptions>(on)!.Recent);
        Assert.False(System.Text.Json.JsonSerializer.Deserialize<BackboneOptions>(off)!.Recent);
        Assert.True(BackboneOptions.TrainDefaults.Recent);
        Assert.False(BackboneOptions.TrainDefaults.UserId);
        Assert.Equal(NumericEncoding.Periodic, BackboneOptions.TrainDefaults.Numeric);
    }

    private static CtrBatch With(CtrBatch b, Tensor items, Tensor categories, Tensor ratings, Tensor mask) => new()
    {
        Size = b.Size,
        Users = b.Users,
        UserFields = b.UserFields,
        Items = b.Items,
        ItemCategories = b.ItemCategories,
        ItemFields = b.ItemFields,
        HistoryItems = items,
        HistoryCategories = categories,
        HistoryRatings = ratings,
        HistoryMask = mask,
        Labels = b.Labels,
        UserIds = b.UserIds,
    };
}
