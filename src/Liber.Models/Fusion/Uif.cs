using Liber.Models.Features;
using Liber.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models.Fusion;

/// <summary>
/// LIBER's User Interest Fusion: each visible partition p gets a key
/// <c>k_p = tanh(W_s s_p + m_p W_h h_p + r_rank(p))</c> from its frozen summary vector s_p, its shift vector
/// h_p (m_p = 0 for a user's first partition) and a learned recency-rank embedding; the target item's
/// embedding scores the keys (scaled dot product), absent partitions are masked, and the weighted sum is
/// projected to the output size (32). A sample with no visible partition gets exactly zeros (the
/// projection has no bias), never NaN. The <c>match</c> variant appends <see cref="MatchHeads"/> x 3 match scores of the
/// target against the partitions' summaries (see <see cref="FusionVariant.Match"/>), zeros where no partition is visible;
/// the <c>category-match</c> variant appends <see cref="CategoryMatchWidth"/> per-category match features (see <see cref="FusionVariant.CategoryMatch"/>).
/// </summary>
public sealed class Uif : nn.Module<LiberInput, Tensor, Tensor>
{
    private readonly Linear _summary;
    private readonly Linear? _shift;
    private readonly Embedding _rank;
    private readonly Linear _query;
    private readonly Linear _output;
    private readonly Linear? _match;
    private readonly Embedding? _categoryWeights;
    private readonly Embedding? _categoryBias;
    private readonly PeriodicEmbedding? _readout; // stats-readout: periodic embeddings of the read-out columns
    private readonly StatsLayout? _layout;
    private readonly FusionVariant _variant;
    private readonly double _scale;
    private readonly int _queryFrom;

    /// <summary>
    /// Creates the layer for targets of width <paramref name="targetWidth"/>; <paramref name="categoryVocabulary"/> (category ids + 1
    /// for padding, <see cref="FeatureMap.CategoryVocabulary"/>) is needed by the <c>category-match</c> variant only.
    /// </summary>
    public Uif(FusionOptions options, int targetWidth, int categoryVocabulary = 0)
        : base(nameof(Uif))
    {
        options.Validate();
        _variant = options.Variant;
        _scale = 1.0 / Math.Sqrt(options.HiddenSize);
        _summary = nn.Linear(options.InputSize, options.HiddenSize);
        _shift = options.UsesShift ? nn.Linear(options.InputSize, options.HiddenSize, hasBias: false) : null;
        _rank = nn.Embedding(options.MaxPartitions + 1, options.HiddenSize);
        // category-attention: the query reads the category half of the target vector [item id E | categories E].
        _queryFrom = options.Variant.CategoryQuery ? targetWidth / 2 : 0;
        _query = nn.Linear(targetWidth - _queryFrom, options.HiddenSize);
        _output = nn.Linear(options.HiddenSize, options.OutputSize, hasBias: false);
        _match = options.Variant.MatchScores ? nn.Linear(options.InputSize, MatchHeads * targetWidth, hasBias: false) : null;
        if (options.Variant.CategoryMatchScores)
        {
            if (categoryVocabulary < 2)
            {
                throw new ArgumentException($"fusion variant 'category-match' needs the data set's categories (category vocabulary {categoryVocabulary}); this data set has none: choose another variant");
            }

            // One read-out vector and bias per category and head, kept as embedding rows so that a batch gathers only its
            // targets' categories (Last.fm has thousands of tags); initialised like a linear layer's weights.
            _categoryWeights = nn.Embedding(categoryVocabulary, 2 * MatchHeads * options.InputSize);
            _categoryBias = nn.Embedding(categoryVocabulary, 2 * MatchHeads);
            using (no_grad())
            {
                double bound = 1.0 / Math.Sqrt(options.InputSize);
                nn.init.uniform_(_categoryWeights.weight!, -bound, bound);
                nn.init.uniform_(_categoryBias.weight!, -bound, bound);
            }
        }

        if (options.Variant.ReadsStatsVectors)
        {
            _layout = options.StatsLayout!; // present: Validate checked it
            _readout = new PeriodicEmbedding(StatsReadoutColumns, "readout");
        }

        OutputSize = options.OutputSize + (_match is null ? 0 : 3 * MatchHeads) + (_categoryWeights is null ? 0 : CategoryMatchWidth)
            + (_readout is null ? 0 : StatsReadoutColumns + _readout.OutputWidth);
        RegisterComponents();
    }

    /// <summary>Match scores per partition of the <c>match</c> variant.</summary>
    public const int MatchHeads = 4;

    /// <summary>Numbers the <c>category-match</c> variant appends: 4 pools of <see cref="MatchHeads"/> scores, the ratios and the amounts.</summary>
    public const int CategoryMatchWidth = 6 * MatchHeads;

    /// <summary>Numbers the <c>stats-readout</c> variant reads from the statistics vectors (each also through periodic embeddings).</summary>
    public const int StatsReadoutColumns = 6;

    /// <summary>Width of the fused vector.</summary>
    public int OutputSize { get; }

    /// <summary>Whether <see cref="Fuse"/> needs the targets' categories (the <c>category-match</c> variant).</summary>
    public bool ReadsCategories => _categoryWeights is not null || _readout is not null;

    /// <summary>Fuses the partitions of a batch against targets [B, Tw] -> [B, OutputSize] (variants that read no categories).</summary>
    public override Tensor forward(LiberInput input, Tensor target) => Fuse(input, target, null);

    /// <summary>
    /// Fuses the partitions of a batch against targets [B, Tw] whose category ids (+1, 0 = padding) are
    /// <paramref name="categories"/> [B, C] -> [B, OutputSize]; the categories are required by <c>category-match</c> only.
    /// </summary>
    public Tensor Fuse(LiberInput input, Tensor target, Tensor? categories)
    {
        using var scope = NewDisposeScope();
        Tensor keys = Keys(input);                                              // [B, P, H]
        Tensor weights = WeightsOf(input, keys, target);                        // [B, P]
        Tensor pooled = weights.unsqueeze(1).bmm(keys).squeeze(1);              // [B, 1, P] x [B, P, H] -> [B, H]
        Tensor fused = _output.call(pooled);                                    // [B, OutputSize]
        if (_match is not null)
        {
            fused = cat([fused, MatchFeatures(input, target, weights)], 1);    // [B, OutputSize + 3K]
        }

        if (_categoryWeights is not null)
        {
            Tensor ids = categories ?? throw new ArgumentException("fusion variant 'category-match' needs the targets' categories: call Fuse with them");
            fused = cat([fused, CategoryMatchFeatures(input, ids, weights)], 1); // [B, ... + CategoryMatchWidth]
        }

        if (_readout is not null)
        {
            Tensor ids = categories ?? throw new ArgumentException("fusion variant 'stats-readout' needs the targets' categories: call Fuse with them");
            Tensor read = StatsReadoutFeatures(input, ids, _layout!);                  // [B, 6]
            fused = cat([fused, read, _readout.call(read)], 1);                       // [B, ... + 6 + 6 x 16]
        }

        return fused.MoveToOuterDisposeScope();
    }

    // Match scores m[b, p, k] = (W_k s_p) . t_b of the visible slots, pooled by the attention weights, by the mean over the
    // visible slots and at the most recent slot (rank 0): [B, 3K]; a row with no visible slot gets zeros.
    private Tensor MatchFeatures(LiberInput input, Tensor target, Tensor weights)
    {
        long p = input.Mask.shape[1], tw = target.shape[1];
        Tensor visible = input.Mask.reshape(-1).nonzero().squeeze(1);                     // [N]
        Tensor rows = visible.div(p, rounding_mode: RoundingMode.floor);                  // [N] batch row of each slot
        Tensor projected = _match!.call(input.SummariesAt(visible)).view(-1, MatchHeads, tw); // [N, K, Tw]
        Tensor scores = projected.mul(target.index_select(0, rows).unsqueeze(1)).sum(-1);     // [N, K]
        return Pooled(input, visible, scores, weights, withSum: false);
    }

    // Per-category read-outs r[b, p, j] = mean over the target's categories c of (w_jc . s_p + b_jc), j = 1..2K. The mean over
    // categories of linear read-outs is the read-out by the mean weights, so each row averages its categories' weights once
    // ([B, 2K, D]) and the visible slots take one product each. The first K are the match scores m, pooled as the match
    // scores plus their sum / P ([B, 4K]); the last K, through softplus, are amounts a >= 0 ("how much of the target's
    // categories"), giving the event-weighted ratio sum_p m_pk / (sum_p a_pk + 1) and log1p(sum_p a_pk) ([B, 2K]). With the
    // stats vector, m can read the liked-and-category shares and a the category shares: the ratio is then the user's liked
    // rate of the target's categories over all visible partitions, events weighing rather than partitions. A row without
    // categories or without a visible partition gets zeros.
    private Tensor CategoryMatchFeatures(LiberInput input, Tensor categories, Tensor weights)
    {
        long b = input.Mask.shape[0], p = input.Mask.shape[1];
        Tensor present = categories.gt(0).to_type(ScalarType.Float32);                      // [B, C]
        using Scalar one = 1;
        Tensor count = present.sum(1, keepdim: true);                                        // [B, 1]
        Tensor w = _categoryWeights!.call(categories).mul(present.unsqueeze(-1)).sum(1).div(count.clamp_min(one)); // [B, 2K D]
        Tensor bias = _categoryBias!.call(categories).mul(present.unsqueeze(-1)).sum(1).div(count.clamp_min(one));  // [B, 2K]
        Tensor visible = input.Mask.reshape(-1).nonzero().squeeze(1);                       // [N]
        Tensor rows = visible.div(p, rounding_mode: RoundingMode.floor);                    // [N]
        Tensor summaries = input.SummariesAt(visible);                                      // [N, D]
        Tensor readout = w.view(b, 2 * MatchHeads, -1).index_select(0, rows);               // [N, 2K, D]
        Tensor scores = readout.bmm(summaries.unsqueeze(-1)).squeeze(-1) + bias.index_select(0, rows); // [N, 2K]
        Tensor m = scores[.., ..MatchHeads];                                                // [N, K]
        Tensor hasCategories = count.gt(0).to_type(ScalarType.Float32).index_select(0, rows); // [N, 1]
        Tensor a = nn.functional.softplus(scores[.., MatchHeads..]) * hasCategories;        // [N, K]
        Tensor mSum = zeros(b, MatchHeads, device: m.device).index_add(0, rows, m, one);    // [B, K]
        Tensor aSum = zeros(b, MatchHeads, device: a.device).index_add(0, rows, a, one);    // [B, K]
        Tensor ratio = mSum / (aSum + one);
        return cat([Pooled(input, visible, m, weights, withSum: true), ratio, aSum.log1p()], 1);
    }

    // The stats-readout columns, read by position from the visible partitions' statistics vectors s_p (equal-size partitions,
    // so shares add up): with share_p and liked_p the mean over the target's categories of the category share and of the
    // liked-and-category share, l_p the liked share, n the visible partitions and "last" the most recent one (rank 0):
    //   rate = (sum l_p + 0.5) / (n + 1), category rate = (sum liked_p + rate / 4) / (sum share_p + 1 / 4), the same two for
    //   the last partition alone, sum share_p / n, log1p(n) / 4.
    // A row without a visible partition reads 0.5, 0.5, 0.5, 0.5, 0, 0; a row without categories has zero shares, so its
    // category rates are the liked rates.
    private static Tensor StatsReadoutFeatures(LiberInput input, Tensor categories, StatsLayout layout)
    {
        long b = input.Mask.shape[0], p = input.Mask.shape[1];
        using Scalar zero = 0, one = 1, half = 0.5, quarter = 0.25, likedAndCategory = layout.LikedAndCategory; // held until the calls return
        Tensor present = categories.gt(zero).to_type(ScalarType.Float32);                   // [B, C]
        Tensor count = present.sum(1, keepdim: true).clamp_min(one);                       // [B, 1]
        Tensor columns = (categories - one).clamp_min(zero);                               // [B, C] category ids -> share columns
        Tensor visible = input.Mask.reshape(-1).nonzero().squeeze(1);                       // [N]
        Tensor rows = visible.div(p, rounding_mode: RoundingMode.floor);                    // [N]
        Tensor s = input.SummariesAt(visible);                                              // [N, D]
        Tensor at = columns.index_select(0, rows);                                          // [N, C]
        Tensor weight = present.index_select(0, rows) / count.index_select(0, rows);       // [N, C] 1 / |cats| for each present category
        Tensor share = s.gather(1, at).mul(weight).sum(1, keepdim: true);                   // [N, 1]
        Tensor liked = s.gather(1, at + likedAndCategory).mul(weight).sum(1, keepdim: true); // [N, 1]
        Tensor likedShare = s[.., layout.LikedShare..(layout.LikedShare + 1)];              // [N, 1]
        Tensor per = cat([share, liked, likedShare, ones_like(likedShare)], 1);             // [N, 4]
        Tensor isLast = (input.Ranks.eq(zero) & input.Mask).reshape(-1).index_select(0, visible).unsqueeze(1).to_type(ScalarType.Float32); // [N, 1]
        Tensor all = zeros(b, 4, device: s.device).index_add(0, rows, per, one);           // [B, 4]
        Tensor last = zeros(b, 4, device: s.device).index_add(0, rows, per * isLast, one); // [B, 4]
        Tensor n = all[.., 3..4];
        Tensor rate = (all[.., 2..3] + half) / (n + one);
        Tensor categoryRate = (all[.., 1..2] + (rate * quarter)) / (all[.., 0..1] + quarter);
        Tensor lastRate = (last[.., 2..3] + half) / (last[.., 3..4] + one);
        Tensor lastCategoryRate = (last[.., 1..2] + (lastRate * quarter)) / (last[.., 0..1] + quarter);
        return cat([categoryRate, lastCategoryRate, rate, lastRate, all[.., 0..1] / n.clamp_min(one), n.log1p() * quarter], 1);
    }

    // Scores [N, K] of the visible slots pooled per row by the attention weights, the mean over the visible slots and the most
    // recent slot (rank 0): [B, 3K]; with withSum also their sum over the visible slots divided by P, which keeps how many
    // partitions there are ("how much of this category did the user see", not only the share): [B, 4K]. A row with no
    // visible slot gets zeros.
    private static Tensor Pooled(LiberInput input, Tensor visible, Tensor scores, Tensor weights, bool withSum)
    {
        long b = input.Mask.shape[0], p = input.Mask.shape[1];
        Tensor m = zeros(b * p, MatchHeads, device: scores.device).index_copy(0, visible, scores).view(b, p, MatchHeads); // [B, P, K]
        Tensor mask = input.Mask.to_type(ScalarType.Float32);                                // [B, P]
        using Scalar one = 1, zero = 0;
        Tensor attended = weights.unsqueeze(1).bmm(m).squeeze(1);                           // [B, K]
        Tensor mean = mask.unsqueeze(1).bmm(m).squeeze(1) / mask.sum(1, keepdim: true).clamp_min(one); // [B, K]
        Tensor last = (input.Ranks.eq(zero).to_type(ScalarType.Float32) * mask).unsqueeze(1).bmm(m).squeeze(1); // [B, K]
        return withSum ? cat([attended, mean, last, m.sum(1) / p], 1) : cat([attended, mean, last], 1);
    }

    /// <summary>The weight of each partition slot [B, P] (sums to 1 over visible slots, 0 where none is visible).</summary>
    public Tensor Weights(LiberInput input, Tensor target)
    {
        using var scope = NewDisposeScope();
        return WeightsOf(input, Keys(input), target).MoveToOuterDisposeScope();
    }

    private Tensor Keys(LiberInput input)
    {
        // Project only the visible slots (most samples see far fewer than P partitions): [N_visible, D] -> [N_visible, H],
        // then place them back into [B, P, H]; padded slots keep only their rank embedding and get weight 0 anyway.
        long b = input.Mask.shape[0], p = input.Mask.shape[1];
        if (b > 1 && IsBroadcast(input))
        {
            // Every row is the same partitions expanded over the batch (online scoring of one user against N
            // candidates): project them once and expand the keys instead of projecting B copies.
            LiberInput first = new()
            {
                Summaries = input.Summaries is null ? null : SharedRows.First(input.Summaries),
                Shifts = input.Shifts is null ? null : SharedRows.First(input.Shifts),
                Rows = input.Rows is null ? null : SharedRows.First(input.Rows),
                SummaryTable = input.SummaryTable,
                ShiftTable = input.ShiftTable,
                ShiftMask = SharedRows.First(input.ShiftMask),
                Mask = SharedRows.First(input.Mask),
                Ranks = SharedRows.First(input.Ranks),
            };
            return Keys(first).expand(b, p, -1);
        }

        Tensor visible = input.Mask.reshape(-1).nonzero().squeeze(1);                     // [N]
        Tensor projected = _summary.call(input.SummariesAt(visible)); // [N, H]
        if (_shift is not null)
        {
            Tensor flags = input.ShiftMask.reshape(-1).index_select(0, visible).unsqueeze(-1).to_type(ScalarType.Float32); // [N, 1]
            projected += _shift.call(input.ShiftsAt(visible)) * flags;
        }

        Tensor placed = zeros(b * p, projected.shape[1], device: projected.device).index_copy(0, visible, projected); // [B P, H]
        return (placed.view(b, p, -1) + _rank.call(input.Ranks)).tanh();                  // [B, P, H]
    }

    /// <summary>Whether every tensor of the input is one row expanded over the batch (stride 0 on the batch dimension), in either form.</summary>
    private static bool IsBroadcast(LiberInput input) =>
        (input.IsTable ? SharedRows.IsExpanded(input.Rows!) : input.Summaries is not null && input.Shifts is not null && SharedRows.IsExpanded(input.Summaries) && SharedRows.IsExpanded(input.Shifts))
        && SharedRows.IsExpanded(input.ShiftMask) && SharedRows.IsExpanded(input.Mask) && SharedRows.IsExpanded(input.Ranks);

    private Tensor WeightsOf(LiberInput input, Tensor keys, Tensor target)
    {
        Tensor mask = input.Mask.to_type(ScalarType.Float32);                  // [B, P]
        using Scalar zero = 0, one = 1, scale = _scale, minus = -1e9f;         // held until the calls return (see FeatureEmbeddings)
        switch (_variant.Weighting)
        {
            case FusionWeighting.Mean:
                return mask / mask.sum(1, keepdim: true).clamp_min(one);
            case FusionWeighting.Last:
                return input.Ranks.eq(zero).to_type(ScalarType.Float32) * mask;
            default:
                Tensor query = _queryFrom == 0 ? target : target[.., _queryFrom..];  // [B, Tw] or its category half [B, Tw/2]
                Tensor q = _query.call(query).unsqueeze(-1);                    // -> [B, H, 1]
                Tensor scores = keys.bmm(q).squeeze(-1).mul(scale);            // [B, P]
                scores = scores.masked_fill(input.Mask.logical_not(), minus);
                // All-masked rows softmax to uniform; multiplying by the mask turns them into zeros.
                return scores.softmax(1) * mask;
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _summary.Dispose();
            _shift?.Dispose();
            _rank.Dispose();
            _query.Dispose();
            _output.Dispose();
            _match?.Dispose();
            _categoryWeights?.Dispose();
            _categoryBias?.Dispose();
            _readout?.Dispose();
        }

        base.Dispose(disposing);
    }
}
