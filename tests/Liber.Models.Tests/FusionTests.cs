using Liber.Models.Features;
using Liber.Models.Fusion;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>UIF: masking, the zero-partition case, the variants' weights.</summary>
[Collection(TorchCollection.Name)]
public sealed class FusionTests
{
    private static LiberInput Input(int[] visible, int p, int d)
    {
        int b = visible.Length;
        var mask = new bool[b * p];
        var ranks = new long[b * p];
        for (int s = 0; s < b; s++)
        {
            for (int j = 0; j < p; j++)
            {
                mask[(s * p) + j] = j < visible[s];
                ranks[(s * p) + j] = j < visible[s] ? visible[s] - 1 - j : p;
            }
        }

        Tensor m = tensor(mask, b, p);
        return new LiberInput
        {
            Summaries = randn(b, p, d) * m.unsqueeze(-1),
            Shifts = randn(b, p, d) * m.unsqueeze(-1),
            ShiftMask = m.clone(),
            Mask = m,
            Ranks = tensor(ranks, b, p),
        };
    }

    [Theory]
    [InlineData("attention")]
    [InlineData("mean")]
    [InlineData("no-shift")]
    public void Table_rows_fuse_and_train_exactly_as_gathered_vectors(string variant)
    {
        TorchRuntime.Configure(1, 8);
        using var scope = NewDisposeScope();
        using var uif = new Uif(new FusionOptions { Variant = FusionVariant.Parse(variant), InputSize = 6, MaxPartitions = 4 }, targetWidth: 10);
        int b = 5, p = 4, d = 6, n = 9;
        Tensor summaryTable = cat([zeros(1, d), randn(n, d)], 0), shiftTable = cat([zeros(1, d), randn(n, d)], 0); // row 0: padding
        int[] visible = [0, 1, 4, 2, 3];
        var rows = new long[b * p];
        var mask = new bool[b * p];
        var ranks = new long[b * p];
        var random = new Random(3);
        for (int s = 0; s < b; s++)
        {
            for (int j = 0; j < p; j++)
            {
                mask[(s * p) + j] = j < visible[s];
                rows[(s * p) + j] = j < visible[s] ? random.Next(1, n + 1) : 0;
                ranks[(s * p) + j] = j < visible[s] ? visible[s] - 1 - j : p;
            }
        }

        Tensor rowsT = tensor(rows, b, p), m = tensor(mask, b, p), r = tensor(ranks, b, p), shiftMask = m.clone();
        shiftMask[2, 0] = false;
        var table = new LiberInput { Rows = rowsT, SummaryTable = summaryTable, ShiftTable = shiftTable, ShiftMask = shiftMask, Mask = m, Ranks = r };
        var dense = new LiberInput
        {
            Summaries = summaryTable.index_select(0, rowsT.reshape(-1)).view(b, p, d),
            Shifts = shiftTable.index_select(0, rowsT.reshape(-1)).view(b, p, d),
            ShiftMask = shiftMask,
            Mask = m,
            Ranks = r,
        };
        Assert.True(table.IsTable);
        Assert.False(dense.IsTable);
        Assert.True(table.SlotSummaries().eq(dense.Summaries!).all().item<bool>());
        Assert.True(table.SlotShifts().eq(dense.Shifts!).all().item<bool>());
        Tensor target = randn(b, 10);

        float[] Gradients(LiberInput input)
        {
            uif.zero_grad();
            Tensor output = uif.call(input, target);
            output.pow(2).sum().backward();
            return [.. output.data<float>(), .. uif.parameters().SelectMany(t => t.grad is null ? [] : t.grad.data<float>().ToArray())];
        }

        float[] fromTable = Gradients(table), fromDense = Gradients(dense);
        Assert.Equal(fromDense.Length, fromTable.Length);
        Assert.Contains(fromDense, v => v != 0f);
        Approx.Equal(fromDense, fromTable, what: "output and gradients");
    }

    [Theory]
    [InlineData("attention")]
    [InlineData("mean")]
    [InlineData("last")]
    [InlineData("no-shift")]
    [InlineData("category-attention")]
    [InlineData("gated")]
    public void Weights_sum_to_one_over_visible_slots_and_zero_partitions_give_zeros(string variant)
    {
        TorchRuntime.Configure(1, 4);
        using var scope = NewDisposeScope();
        using var uif = new Uif(new FusionOptions { Variant = FusionVariant.Parse(variant), InputSize = 6, MaxPartitions = 4 }, targetWidth: 10);
        LiberInput input = Input([0, 1, 3, 4], 4, 6);
        Tensor target = randn(4, 10);
        Tensor weights = uif.Weights(input, target);
        Tensor fused = uif.call(input, target);
        Assert.Equal(new long[] { 4, 32 }, fused.shape);
        Assert.True(fused.isfinite().all().item<bool>());
        Assert.Equal(0f, fused[0].abs().sum().item<float>());                 // no visible partition: exactly zeros
        Assert.Equal(0f, weights[0].abs().sum().item<float>());
        for (int s = 1; s < 4; s++)
        {
            Approx.Equal(1f, weights[s].sum().item<float>());
        }

        Assert.Equal(0f, weights[1, 1..].abs().sum().item<float>());          // masked slots get nothing
        if (variant == "last")
        {
            Assert.Equal(1f, weights[2, 2].item<float>());                    // rank 0 is the last filled slot
        }

        if (variant == "mean")
        {
            Approx.Equal(1f / 3, weights[2, 0].item<float>());
        }
    }

    [Fact]
    public void A_batch_without_any_visible_partition_fuses_to_zeros_and_backpropagates()
    {
        TorchRuntime.Configure(1, 8);
        using var scope = NewDisposeScope();
        using var uif = new Uif(new FusionOptions { InputSize = 6, MaxPartitions = 4 }, 10);
        Tensor target = randn(3, 10, requires_grad: true);
        Tensor fused = uif.call(Input([0, 0, 0], 4, 6), target);
        Assert.Equal(0f, fused.abs().sum().item<float>());
        fused.sum().backward();
        Assert.True(target.grad!.isfinite().all().item<bool>());
    }

    [Fact]
    public void Attention_depends_on_the_target_and_mean_does_not()
    {
        TorchRuntime.Configure(1, 5);
        using var scope = NewDisposeScope();
        LiberInput input = Input([4, 4], 4, 6);
        Tensor t1 = randn(2, 10), t2 = randn(2, 10);
        using var attention = new Uif(new FusionOptions { InputSize = 6, MaxPartitions = 4 }, 10);
        using var mean = new Uif(new FusionOptions { Variant = FusionVariant.Mean, InputSize = 6, MaxPartitions = 4 }, 10);
        Assert.False(attention.Weights(input, t1).allclose(attention.Weights(input, t2)));
        Assert.True(mean.Weights(input, t1).eq(mean.Weights(input, t2)).all().item<bool>());
    }

    [Fact]
    public void No_shift_ignores_shift_vectors()
    {
        TorchRuntime.Configure(1, 6);
        using var scope = NewDisposeScope();
        using var uif = new Uif(new FusionOptions { Variant = FusionVariant.NoShift, InputSize = 6, MaxPartitions = 4 }, 10);
        LiberInput a = Input([3], 4, 6);
        var b = new LiberInput { Summaries = a.Summaries, Shifts = randn(1, 4, 6), ShiftMask = a.ShiftMask, Mask = a.Mask, Ranks = a.Ranks };
        Tensor target = randn(1, 10);
        Assert.True(uif.call(a, target).eq(uif.call(b, target)).all().item<bool>());
    }

    [Fact]
    public void Single_variant_needs_one_slot_and_unknown_variants_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new FusionOptions { Variant = FusionVariant.PerUser, InputSize = 4, MaxPartitions = 3 }.Validate());
        var e = Assert.Throws<ArgumentException>(() => new FusionOptions { Variant = FusionVariant.Parse("sum"), InputSize = 4 }.Validate());
        Assert.Contains("attention", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Per_user_vectors_give_one_slot_per_user_masked_where_absent()
    {
        int users = Fixture.Samples.Streams.UserCount;
        var present = Enumerable.Range(0, users).Select(u => u % 2 == 0).ToArray();
        using var vectors = PartitionVectors.PerUser(users, new float[users * 3].Select((_, i) => (float)i).ToArray(), 3, present);
        using var scope = NewDisposeScope();
        int[] ordinals = Enumerable.Range(0, 40).ToArray();
        LiberInput input = new Collator(Fixture.Samples, Fixture.Tables, liber: vectors).Build(ordinals).Liber!;
        Tensor summaries = input.SlotSummaries();
        Assert.Equal(new long[] { 40, 1, 3 }, summaries.shape);
        for (int s = 0; s < 40; s++)
        {
            int user = Fixture.Samples.Users[s];
            Assert.Equal(user % 2 == 0, input.Mask[s, 0].item<bool>());
            Assert.Equal(user % 2 == 0 ? user * 3 : 0f, summaries[s, 0, 0].item<float>());
        }
    }

    [Fact]
    public void A_fusion_variant_is_typed_with_its_capabilities_and_stays_a_string_in_json()
    {
        string json = System.Text.Json.JsonSerializer.Serialize(new FusionOptions { Variant = FusionVariant.NoShift, InputSize = 4 });
        Assert.Contains("\"variant\":\"no-shift\"", json, StringComparison.Ordinal);
        FusionOptions back = System.Text.Json.JsonSerializer.Deserialize<FusionOptions>(json)!;
        Assert.Same(FusionVariant.NoShift, back.Variant);
        Assert.False(back.UsesShift);
        Assert.Equal(["attention", "mean", "last", "no-shift", "single", "category-attention", "gated", "match", "category-match", "stats-readout"], FusionVariant.Names);
        Assert.Equal([FusionVariant.StatsReadout], FusionVariant.All.Where(v => v.ReadsStatsVectors));
        Assert.True(FusionVariant.Parse("category-attention").CategoryQuery);
        Assert.True(FusionVariant.Parse("gated").IsGatedResidual);
        Assert.Equal(2, FusionVariant.All.Count(v => v.CategoryQuery || v.IsGatedResidual));
        Assert.Equal([FusionVariant.Match], FusionVariant.All.Where(v => v.MatchScores));
        Assert.Equal([FusionVariant.CategoryMatch], FusionVariant.All.Where(v => v.CategoryMatchScores));
        Assert.True(FusionVariant.Parse("single").IsPerUser);
        Assert.Equal(FusionWeighting.Mean, FusionVariant.Parse("mean").Weighting);
        Assert.All(FusionVariant.All.Where(v => v != FusionVariant.PerUser), v => Assert.False(v.IsPerUser));
        var e = Assert.Throws<ArgumentException>(() => FusionVariant.Parse("sum"));
        Assert.Equal("unknown fusion variant 'sum'; known: attention, mean, last, no-shift, single, category-attention, gated, match, category-match, stats-readout", e.Message);
        Assert.Throws<System.Text.Json.JsonException>(() => System.Text.Json.JsonSerializer.Deserialize<FusionOptions>("""{"variant":3,"input_size":4}"""));
    }

    [Fact]
    public void Match_scores_are_the_targets_products_with_the_partitions_pooled_three_ways_and_zero_without_partitions()
    {
        TorchRuntime.Configure(1, 11);
        using var scope = NewDisposeScope();
        int p = 4, d = 6, tw = 10, k = Uif.MatchHeads;
        LiberInput input = Input([3, 0, 1], p, d);
        Tensor target = randn(3, tw);
        using var uif = new Uif(new FusionOptions { Variant = FusionVariant.Match, InputSize = d, MaxPartitions = p }, tw);
        using var plain = new Uif(new FusionOptions { Variant = FusionVariant.Attention, InputSize = d, MaxPartitions = p }, tw);
        Assert.Equal(plain.OutputSize + (3 * k), uif.OutputSize);
        Tensor fused = uif.call(input, target);
        Assert.Equal([3L, uif.OutputSize], fused.shape);

        // Direct computation: m[s, j, h] = (W_h s_j) . t_s for the visible slots.
        Tensor w = uif.named_parameters().Single(n => n.name.StartsWith("_match", StringComparison.Ordinal)).parameter.detach(); // [K Tw, D]
        Tensor weights = uif.Weights(input, target);
        for (int s = 0; s < 3; s++)
        {
            int visible = (int)input.Mask[s].sum().item<long>();
            Tensor tail = fused[s, (int)(fused.shape[1] - (3 * k))..];
            if (visible == 0)
            {
                Assert.Equal(0f, tail.abs().sum().item<float>());
                continue;
            }

            Tensor m = input.Summaries![s, ..visible].matmul(w.T).view(visible, k, tw).mul(target[s]).sum(-1); // [visible, K]
            Tensor attended = weights[s, ..visible].unsqueeze(0).matmul(m).squeeze(0);
            Tensor mean = m.mean([0L]);
            Tensor last = m[visible - 1];                                   // the most recent slot is the last visible one (rank 0)
            Assert.True(tail.allclose(cat([attended, mean, last]), rtol: 1e-4, atol: 1e-5), $"row {s}");
        }

        // The scores depend on the target: another target, other match features.
        Tensor other = uif.call(input, randn(3, tw));
        int from = uif.OutputSize - (3 * k);
        Assert.False(fused[0, from..].allclose(other[0, from..]));
    }

    [Fact]
    public void Category_match_features_are_the_per_category_read_outs_of_the_targets_categories_pooled_and_their_ratio()
    {
        TorchRuntime.Configure(1, 12);
        using var scope = NewDisposeScope();
        int p = 4, d = 6, tw = 10, k = Uif.MatchHeads, vocabulary = 6;
        LiberInput input = Input([3, 0, 4], p, d);
        Tensor target = randn(3, tw);
        Tensor categories = tensor(new long[] { 2, 5, 0, 1, 0, 0, 0, 0, 0 }, 3, 3); // row 2 has no category
        using var uif = new Uif(new FusionOptions { Variant = FusionVariant.CategoryMatch, InputSize = d, MaxPartitions = p }, tw, vocabulary);
        using var plain = new Uif(new FusionOptions { Variant = FusionVariant.Attention, InputSize = d, MaxPartitions = p }, tw);
        Assert.True(uif.ReadsCategories);
        Assert.False(plain.ReadsCategories);
        Assert.Equal(plain.OutputSize + (6 * k), uif.OutputSize);
        Assert.Equal(Uif.CategoryMatchWidth, 6 * k);
        Tensor fused = uif.Fuse(input, target, categories);
        Assert.Equal([3L, uif.OutputSize], fused.shape);

        // Direct computation: u[j, h, c] = w_hc . s_j + b_hc for 2K heads, r[j, h] = mean over the row's categories c of
        // u[j, h, c]; m = r[.., :K], a = softplus(r[.., K:]).
        Tensor w = uif.named_parameters().Single(n => n.name.StartsWith("_categoryWeights", StringComparison.Ordinal)).parameter.detach().view(vocabulary, 2 * k, d);
        Tensor bias = uif.named_parameters().Single(n => n.name.StartsWith("_categoryBias", StringComparison.Ordinal)).parameter.detach(); // [V, 2K]
        Tensor weights = uif.Weights(input, target);
        long[][] rowCategories = [[2, 5], [1], []];
        for (int s = 0; s < 3; s++)
        {
            int visible = (int)input.Mask[s].sum().item<long>();
            Tensor tail = fused[s, (int)(fused.shape[1] - (6 * k))..];
            if (visible == 0 || rowCategories[s].Length == 0)
            {
                // No visible partition: zeros. No category: the read-out of no weights, also zeros (bias included).
                Assert.True(tail.abs().sum().item<float>() < 1e-6f, $"row {s}");
                continue;
            }

            Tensor r = zeros(visible, 2 * k);
            foreach (long c in rowCategories[s])
            {
                r += input.Summaries![s, ..visible].matmul(w[c].T) + bias[c];
            }

            r /= rowCategories[s].Length;
            Tensor m = r[.., ..k], a = nn.functional.softplus(r[.., k..]);
            Tensor attended = weights[s, ..visible].unsqueeze(0).matmul(m).squeeze(0);
            Tensor expected = cat([attended, m.mean([0L]), m[visible - 1], m.sum([0L]) / p, m.sum([0L]) / (a.sum([0L]) + 1), a.sum([0L]).log1p()]);
            Assert.True(tail.allclose(expected, rtol: 1e-4, atol: 1e-5), $"row {s}");
        }

        // The category scores never read the target's vector; they follow its categories.
        Tensor otherTarget = uif.Fuse(input, randn(3, tw), categories);
        int to = uif.OutputSize - (5 * k); // the mean, last, sum, ratio and amount blocks ignore the attention weights, which read the target
        Assert.True(fused[0, to..].allclose(otherTarget[0, to..], rtol: 1e-5, atol: 1e-6));
        Tensor otherCategories = uif.Fuse(input, target, tensor(new long[] { 3, 0, 0, 1, 0, 0, 0, 0, 0 }, 3, 3));
        Assert.False(fused[0, to..].allclose(otherCategories[0, to..]));
        Assert.True(fused[1].allclose(otherCategories[1]));

        var e = Assert.Throws<ArgumentException>(() => uif.call(input, target));
        Assert.Contains("needs the targets' categories", e.Message, StringComparison.Ordinal);
        var none = Assert.Throws<ArgumentException>(() => new Uif(new FusionOptions { Variant = FusionVariant.CategoryMatch, InputSize = d, MaxPartitions = p }, tw, 1));
        Assert.Contains("this data set has none", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stats_readout_reads_the_statistics_vectors_by_position()
    {
        TorchRuntime.Configure(1, 13);
        using var scope = NewDisposeScope();

        // C = 2 categories, D = 1 decade: [share c1, share c2 | liked rate c1, c2 | decade | mean rating, liked share, activity,
        // pace | liked-and-category c1, c2], 11 columns.
        var layout = new StatsLayout(2, 1);
        Assert.Equal(11, layout.Width);
        int p = 3, d = layout.Width, tw = 4;
        float[] Vector(float share1, float share2, float liked, float likedAnd1, float likedAnd2) =>
            [share1, share2, 0.9f, 0.9f, 1, 0.7f, liked, 0.3f, 0.2f, likedAnd1, likedAnd2];
        float[][] partitions = [Vector(0.5f, 0.5f, 0.6f, 0.4f, 0.2f), Vector(1, 0, 0.25f, 0.25f, 0), Vector(0.2f, 0.8f, 0.5f, 0.1f, 0.4f)];
        LiberInput input = Input([3, 0, 2, 1], p, d);
        var summaries = new float[4 * p * d];
        foreach ((int row, int visible) in new[] { (0, 3), (2, 2), (3, 1) })
        {
            for (int j = 0; j < visible; j++)
            {
                partitions[j].CopyTo(summaries, ((row * p) + j) * d);
            }
        }

        input = new LiberInput { Summaries = tensor(summaries, 4, p, d), Shifts = input.Shifts, ShiftMask = input.ShiftMask, Mask = input.Mask, Ranks = input.Ranks };
        Tensor categories = tensor(new long[] { 1, 2, 1, 0, 2, 0, 0, 0 }, 4, 2); // row 0: both; row 1: c1 (no partition); row 2: c2; row 3: none
        using var uif = new Uif(new FusionOptions { Variant = FusionVariant.StatsReadout, InputSize = d, MaxPartitions = p, StatsLayout = layout }, tw);
        using var plain = new Uif(new FusionOptions { Variant = FusionVariant.Attention, InputSize = d, MaxPartitions = p }, tw);
        Assert.True(uif.ReadsCategories);
        Assert.Equal(plain.OutputSize + Uif.StatsReadoutColumns + (Uif.StatsReadoutColumns * Layers.PeriodicEmbedding.Size), uif.OutputSize);
        Tensor fused = uif.Fuse(input, randn(4, tw), categories);
        Tensor read = fused[.., plain.OutputSize..(plain.OutputSize + Uif.StatsReadoutColumns)];

        // Hand computation (the last visible slot is the most recent partition).
        float[] Expected(int visible, int[] cats)
        {
            if (visible == 0)
            {
                return [0.5f, 0.5f, 0.5f, 0.5f, 0, 0];
            }

            float Share(float[] v) => cats.Length == 0 ? 0 : cats.Average(c => v[c]);
            float LikedAnd(float[] v) => cats.Length == 0 ? 0 : cats.Average(c => v[9 + c]);
            float[][] seen = partitions[..visible];
            float rate = (seen.Sum(v => v[6]) + 0.5f) / (visible + 1);
            float categoryRate = (seen.Sum(LikedAnd) + (rate / 4)) / (seen.Sum(Share) + 0.25f);
            float[] last = seen[^1];
            float lastRate = (last[6] + 0.5f) / 2;
            float lastCategoryRate = (LikedAnd(last) + (lastRate / 4)) / (Share(last) + 0.25f);
            return [categoryRate, lastCategoryRate, rate, lastRate, seen.Sum(Share) / visible, MathF.Log(1 + visible) / 4];
        }

        (int Visible, int[] Cats)[] rows = [(3, [0, 1]), (0, [0]), (2, [1]), (1, [])];
        for (int r = 0; r < rows.Length; r++)
        {
            Approx.Equal(Expected(rows[r].Visible, rows[r].Cats), read[r].data<float>().ToArray(), what: $"row {r}");
        }

        Approx.Equal(read[3, 2].item<float>(), read[3, 0].item<float>(), what: "no category: the category rate is the liked rate");

        var missing = Assert.Throws<ArgumentException>(() => new FusionOptions { Variant = FusionVariant.StatsReadout, InputSize = d }.Validate());
        Assert.Contains("encode the partitions with --encoder stats", missing.Message, StringComparison.Ordinal);
        var width = Assert.Throws<ArgumentException>(() => new FusionOptions { Variant = FusionVariant.StatsReadout, InputSize = 384, StatsLayout = layout }.Validate());
        Assert.Contains("gives 11 columns, but the vectors have 384", width.Message, StringComparison.Ordinal);
        var uncategorised = Assert.Throws<ArgumentException>(() => uif.call(input, randn(4, tw)));
        Assert.Contains("needs the targets' categories", uncategorised.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Category_match_reads_the_targets_categories_a_positive_control()
    {
        // Positive control: each partition vector holds per-category liked rates (one coordinate per category, as the stats
        // encoder's), the target's category reaches the layer only as category ids (its target vector is noise), and the
        // label is whether the user's partitions liked the target's category on average. The per-category read-out solves
        // it; attention, which reads the target vector only, cannot. Trained on 1,536 samples, scored on 512 others.
        TorchRuntime.Configure(1, 21);
        using var scope = NewDisposeScope();
        int b = 2048, train = 1536, p = 4, categoriesCount = 5, d = categoriesCount;
        var random = new Random(5);
        var liking = new float[b * p * d];
        var cats = new long[b];
        var labels = new float[b];
        for (int s = 0; s < b; s++)
        {
            int c = random.Next(categoriesCount);
            cats[s] = c + 1;
            double sum = 0;
            for (int j = 0; j < p; j++)
            {
                for (int q = 0; q < d; q++)
                {
                    float v = (float)random.NextDouble();
                    liking[(((s * p) + j) * d) + q] = v;
                    sum += q == c ? v : 0;
                }
            }

            labels[s] = sum / p > 0.5 ? 1 : 0;
        }

        Tensor summaries = tensor(liking, b, p, d), target = randn(b, categoriesCount), categories = tensor(cats, b, 1), y = tensor(labels);
        LiberInput Rows(Range r) => new()
        {
            Summaries = summaries[r],
            Shifts = zeros_like(summaries[r]),
            ShiftMask = zeros(summaries[r].shape[0], p, dtype: ScalarType.Bool),
            Mask = ones(summaries[r].shape[0], p, dtype: ScalarType.Bool),
            Ranks = arange(p - 1, -1, -1, dtype: ScalarType.Int64).unsqueeze(0).expand(summaries[r].shape[0], p).contiguous(),
        };

        LiberInput fit = Rows(..train), held = Rows(train..);
        double HeldOutAuc(FusionVariant variant)
        {
            using var uif = new Uif(new FusionOptions { Variant = variant, InputSize = d, MaxPartitions = p }, categoriesCount, categoriesCount + 1);
            using var head = nn.Linear(uif.OutputSize, 1);
            using var optimizer = optim.Adam(uif.parameters().Concat(head.parameters()), lr: 0.02);
            for (int step = 0; step < 300; step++)
            {
                using var stepScope = NewDisposeScope();
                optimizer.zero_grad();
                Tensor logits = head.call(uif.Fuse(fit, target[..train], categories[..train])).squeeze(-1);
                nn.functional.binary_cross_entropy_with_logits(logits, y[..train]).backward();
                optimizer.step();
            }

            using var eval = no_grad();
            float[] scores = head.call(uif.Fuse(held, target[train..], categories[train..])).squeeze(-1).data<float>().ToArray();
            return Liber.Models.Training.Metrics.Auc(scores, labels.AsSpan(train));
        }

        double categoryMatch = HeldOutAuc(FusionVariant.CategoryMatch), attention = HeldOutAuc(FusionVariant.Attention);
        Assert.True(categoryMatch > 0.95, $"category-match AUC {categoryMatch:F3}");
        Assert.True(attention < 0.7, $"attention AUC {attention:F3}");
    }

    [Fact]
    public void Category_attention_reads_the_targets_categories_and_not_its_id()
    {
        TorchRuntime.Configure(1, 7);
        using var scope = NewDisposeScope();
        LiberInput input = Input([4, 4], 4, 6);
        Tensor categories = randn(2, 5);
        Tensor t1 = cat([randn(2, 5), categories], 1), t2 = cat([randn(2, 5), categories], 1); // other ids, same categories
        Tensor t3 = cat([t1[.., ..5], randn(2, 5)], 1);                                        // same id, other categories
        using var uif = new Uif(new FusionOptions { Variant = FusionVariant.CategoryAttention, InputSize = 6, MaxPartitions = 4 }, 10);
        Assert.True(uif.Weights(input, t1).allclose(uif.Weights(input, t2)));
        Assert.False(uif.Weights(input, t1).allclose(uif.Weights(input, t3)));
    }

    [Fact]
    public void Gated_fusion_adds_to_the_backbones_features_and_a_user_without_partitions_scores_as_without_liber()
    {
        TorchRuntime.Configure(1, 9);
        using var scope = NewDisposeScope();
        var options = new Liber.Models.Backbones.BackboneOptions { EmbeddingSize = 8, Hidden = [16], AttentionHidden = [8], Stats = false };
        using var vectors = PartitionVectors.PerUser(Fixture.Samples.Streams.UserCount, new float[Fixture.Samples.Streams.UserCount * 3], 3, new bool[Fixture.Samples.Streams.UserCount]);
        var config = new ModelConfig { Backbone = "din", Options = options, Fusion = new FusionOptions { Variant = FusionVariant.Gated, InputSize = 3, MaxPartitions = 1 } };
        using var gated = new CtrModel(Fixture.Tables.Map, config);
        using var plain = new CtrModel(Fixture.Tables.Map, config with { Fusion = null });

        // Same head width as the model without LIBER (the fused vector is added, not concatenated): the plain model's
        // weights load into the gated one's backbone and head, and with no visible partition (f = 0) the scores agree.
        Dictionary<string, Tensor> state = plain.state_dict();
        foreach ((string name, Tensor t) in gated.state_dict())
        {
            if (state.TryGetValue(name, out Tensor? w))
            {
                using (no_grad())
                {
                    t.copy_(w);
                }
            }
        }

        gated.eval();
        plain.eval();
        int[] ordinals = Enumerable.Range(0, 16).ToArray();
        CtrBatch batch = new Collator(Fixture.Samples, Fixture.Tables, liber: vectors).Build(ordinals);
        Assert.True(gated.call(batch).allclose(plain.call(batch), rtol: 1e-5, atol: 1e-6));
        Assert.Contains(gated.named_parameters(), p => p.name.StartsWith("_gate", StringComparison.Ordinal));
    }
}
