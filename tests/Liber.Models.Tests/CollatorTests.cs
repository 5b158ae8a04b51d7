using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>The collator reads exactly the rows before each sample, and LIBER's visible partitions only.</summary>
[Collection(TorchCollection.Name)]
public sealed class CollatorTests
{
    private static readonly int[] Some = Enumerable.Range(0, 60).Select(i => i * 13 % Fixture.Samples.Count).ToArray();

    private static long[] Row(Tensor t, int s) => t[s].data<long>().ToArray();

    [Fact]
    public void History_is_the_last_L_rows_before_the_sample_oldest_first()
    {
        SampleSet samples = Fixture.Samples;
        int l = samples.Options.HistoryLength;
        using var scope = NewDisposeScope();
        CtrBatch batch = new Collator(samples, Fixture.Tables).Build(Some);
        for (int s = 0; s < Some.Length; s++)
        {
            (int user, int index, int row) = samples[Some[s]];
            int n = Math.Min(l, index);
            long[] expected = Enumerable.Range(row - n, n).Select(r => (long)samples.Streams.Items[r] + 1).Concat(Enumerable.Repeat(0L, l - n)).ToArray();
            Assert.Equal(expected, Row(batch.HistoryItems, s));
            Assert.Equal(n, batch.HistoryMask[s].sum().item<long>());
            Assert.Equal(samples.Streams.Items[row] + 1, batch.Items[s].item<long>());
            Assert.Equal(samples.Label(Some[s]), batch.Labels[s].item<float>());
            Assert.Equal(user + 1, batch.Users[s].item<long>());
        }
    }

    [Fact]
    public void Recent_long_history_is_the_last_T_rows_before_the_sample()
    {
        SampleSet samples = Fixture.Samples;
        using var scope = NewDisposeScope();
        CtrBatch batch = new Collator(samples, Fixture.Tables, new LongHistoryRequest(LongHistoryKind.Recent, 25)).Build(Some);
        for (int s = 0; s < Some.Length; s++)
        {
            (_, int index, int row) = samples[Some[s]];
            int n = Math.Min(25, index);
            long[] expected = Enumerable.Range(row - n, n).Select(r => (long)samples.Streams.Items[r] + 1).Concat(Enumerable.Repeat(0L, 25 - n)).ToArray();
            Assert.Equal(expected, Row(batch.LongHistory!.Items, s));
        }
    }

    [Fact]
    public void Category_search_matches_a_brute_force_scan()
    {
        SampleSet samples = Fixture.Samples;
        FeatureTables tables = Fixture.Tables;
        int c = tables.Map.MaxCategories, t = 7;
        using var scope = NewDisposeScope();
        CtrBatch batch = new Collator(samples, tables, new LongHistoryRequest(LongHistoryKind.CategorySearch, t)).Build(Some);
        int nonEmpty = 0;
        for (int s = 0; s < Some.Length; s++)
        {
            (int user, _, int row) = samples[Some[s]];
            var target = tables.ItemCategories.AsSpan(samples.Streams.Items[row] * c, c).ToArray().Where(x => x > 0).ToHashSet();
            var found = new List<long>();
            for (int r = row - 1; r >= samples.Streams.Offsets[user] && found.Count < t; r--)
            {
                int item = samples.Streams.Items[r];
                if (tables.ItemCategories.AsSpan(item * c, c).ToArray().Any(target.Contains))
                {
                    found.Add(item + 1);
                }
            }

            found.Reverse();
            nonEmpty += found.Count > 0 ? 1 : 0;
            Assert.Equal(found.Concat(Enumerable.Repeat(0L, t - found.Count)).ToArray(), Row(batch.LongHistory!.Items, s));
        }

        Assert.True(nonEmpty > Some.Length / 2);
    }

    [Fact]
    public void Liber_slots_hold_only_partitions_closed_before_the_sample()
    {
        SampleSet samples = Fixture.Samples;
        PartitionSet set = Fixture.Partitions;
        int p = Fixture.Tables.Map.MaxPartitions;
        using var vectors = Fixture.RandomVectors();
        var slots = new long[p];
        int checkedSlots = 0, truncated = 0;
        for (int o = 0; o < samples.Count; o++)
        {
            (int user, int index, _) = samples[o];
            int n = vectors.Lookup(user, index, slots);
            Assert.Equal(Math.Min(p, set.VisibleCount(user, index)), n);
            truncated += set.VisibleCount(user, index) > p ? 1 : 0;
            for (int j = 0; j < p; j++)
            {
                if (j >= n)
                {
                    Assert.Equal(0, slots[j]);
                    continue;
                }

                Partition part = set.All[(int)slots[j] - 1];
                Assert.Equal(user, part.User);
                Assert.True(part.End < index, $"sample index {index} sees partition [{part.Start}, {part.End}]");
                checkedSlots++;
            }

            // The most recent visible partition is in the last filled slot.
            if (n > 0)
            {
                Assert.Equal(set.VisibleCount(user, index) - 1, set.All[(int)slots[n - 1] - 1].Number);
            }
        }

        Assert.True(checkedSlots > 1000 && truncated > 0, $"{checkedSlots} slots, {truncated} truncated");
    }

    [Fact]
    public void Liber_input_gathers_the_table_rows_with_ranks_and_shift_flags()
    {
        SampleSet samples = Fixture.Samples;
        int p = Fixture.Tables.Map.MaxPartitions;
        using var vectors = Fixture.RandomVectors();
        using var scope = NewDisposeScope();
        LiberInput input = new Collator(samples, Fixture.Tables, liber: vectors).Build(Some).Liber!;
        Assert.True(input.IsTable);                                             // rows into the shared table, no per-sample copy
        Assert.Same(vectors.Summaries, input.SummaryTable);
        Assert.Equal(new long[] { Some.Length, p }, input.Rows!.shape);
        Tensor summaries = input.SlotSummaries(), shifts = input.SlotShifts();
        Assert.Equal(new long[] { Some.Length, p, Fixture.Dimension }, summaries.shape);
        var slots = new long[p];
        for (int s = 0; s < Some.Length; s++)
        {
            (int user, int index, _) = samples[Some[s]];
            int n = vectors.Lookup(user, index, slots);
            for (int j = 0; j < p; j++)
            {
                Assert.Equal(j < n, input.Mask[s, j].item<bool>());
                Assert.Equal(j < n ? n - 1 - j : p, input.Ranks[s, j].item<long>());
                Assert.True(summaries[s, j].eq(vectors.Summaries[slots[j]]).all().item<bool>());
                bool first = j < n && Fixture.Partitions.All[(int)slots[j] - 1].Number == 0;
                Assert.Equal(j < n && !first, input.ShiftMask[s, j].item<bool>());
                if (j >= n || first)
                {
                    Assert.Equal(0f, shifts[s, j].abs().sum().item<float>());
                }
            }
        }
    }

    [Fact]
    public void Feature_map_round_trips_through_json_and_refuses_unknown_keys()
    {
        string dir = Fixture.TempDir();
        try
        {
            string path = Path.Combine(dir, "feature-map.json");
            Fixture.Tables.Map.Save(path);
            FeatureMap back = FeatureMap.Load(path);
            back.RequireCompatible(Fixture.Tables.Map);
            Assert.Equal(Fixture.Tables.Map.Categories, back.Categories);
            Assert.NotEmpty(back.UserFields);
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"users\":", "\"userz\": 1, \"users\":", StringComparison.Ordinal));
            var e = Assert.Throws<InvalidDataException>(() => FeatureMap.Load(path));
            Assert.Contains("userz", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
