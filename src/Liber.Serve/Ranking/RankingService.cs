using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;

namespace Liber.Serve.Ranking;

/// <summary>What the rank model reads of one user: the last events (oldest first), the vectors of the done partitions (oldest first) and the closed partitions left out because their texts are pending or failed.</summary>
/// <param name="History">The last <see cref="IRankModel.HistoryWindow"/> events: the partitions' events, then the short-term cache.</param>
/// <param name="Partitions">Summary and shift vectors of the done partitions (shift null for the user's first partition).</param>
/// <param name="Pending">Numbers of the closed partitions whose texts are pending or failed: reported, never waited for.</param>
/// <param name="DoneNumbers">The numbers of the partitions in <paramref name="Partitions"/>, in the same order.</param>
public sealed record RankingState(IReadOnlyList<(string Item, float Rating)> History, IReadOnlyList<(float[] Summary, float[]? Shift)> Partitions, IReadOnlyList<int> Pending, IReadOnlyList<int> DoneNumbers)
{
    /// <summary>The state of a user with no events: empty history, no partitions.</summary>
    public static RankingState Empty { get; } = new([], [], [], []);
}

/// <summary>The stored partition vectors do not have the dimension the checkpoint's fusion expects (served with another encoder).</summary>
public sealed class VectorDimensionException(int stored, int expected)
    : Exception($"partition vectors have {stored} dimensions but the checkpoint's fusion expects {expected}: serve with the encoder the checkpoint was trained with")
{
    /// <summary>The stored vectors' dimension.</summary>
    public int Stored { get; } = stored;

    /// <summary>The dimension the model expects.</summary>
    public int Expected { get; } = expected;
}

/// <summary>
/// Assembles a user's ranking state from the store (the recent events and the done partitions' vectors, through the
/// service's per-user job cache) and scores candidates with the rank model. The HTTP endpoint only parses and answers.
/// </summary>
public sealed class RankingService(ServeState state)
{
    /// <summary>The ranking state of external user <paramref name="user"/> for <paramref name="model"/> (empty for an unknown user).</summary>
    /// <exception cref="VectorDimensionException">The stored vectors do not fit the model.</exception>
    public RankingState StateOf(string user, IRankModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (state.Store.FindUser(user) is not int u || state.Store.State(u) is not UserPartitionState s)
        {
            return RankingState.Empty;
        }

        IReadOnlyList<InterestJob> jobs = state.Jobs(u);
        int need = model.HistoryWindow - s.Cache.Length;
        var tail = new List<PartitionEvent>();
        for (int k = jobs.Count - 1; k >= 0 && need > 0; k--)
        {
            PartitionEvent[] ev = jobs[k].Events;
            int take = Math.Min(need, ev.Length);
            tail.InsertRange(0, ev[^take..]);
            need -= take;
        }

        tail.AddRange(s.Cache.Length > model.HistoryWindow ? s.Cache[^model.HistoryWindow..] : s.Cache);
        var catalog = state.Store.CatalogSnapshot().Catalog;
        var history = new List<(string Item, float Rating)>(tail.Count);
        foreach (PartitionEvent e in tail)
        {
            history.Add((catalog[e.Item].ExternalId, e.Rating));
        }

        var partitions = new List<(float[] Summary, float[]? Shift)>();
        var numbers = new List<int>();
        var pending = new List<int>();
        foreach (InterestJob j in jobs)
        {
            if (j.Status == InterestJobStatus.Done && j.SummaryVector is float[] sv)
            {
                if (model.FusionInputSize is int d && (sv.Length != d || j.ShiftVector?.Length is int h && h != d))
                {
                    throw new VectorDimensionException(sv.Length != d ? sv.Length : j.ShiftVector!.Length, d);
                }

                partitions.Add((sv, j.Partition.Number == 0 ? null : j.ShiftVector));
                numbers.Add(j.Partition.Number);
            }
            else
            {
                pending.Add(j.Partition.Number);
            }
        }

        return new RankingState(history, partitions, pending, numbers);
    }

    /// <summary>
    /// One candidate's score and UIF's weight of each partition the model read (the most recent <see cref="IRankModel.MaxPartitions"/>
    /// done ones), as (partition number, weight), oldest first; no weights without fusion.
    /// </summary>
    /// <exception cref="VectorDimensionException">The stored vectors do not fit the model.</exception>
    public async Task<(float Score, IReadOnlyList<(int Partition, float Weight)> Attention, RankingState State)> ExplainAsync(IRankModel model, string user, string item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        RankingState s = StateOf(user, model);
        IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions = model.FusionInputSize is null ? null : s.Partitions;
        IReadOnlyList<float[]>? stats = Stats(model, user, [item]);
        float[] scores = await model.ScoreAsync(user, s.History, [item], partitions, stats, cancellationToken).ConfigureAwait(false);
        float[]? weights = partitions is null ? null : await model.AttentionAsync(user, s.History, item, partitions, stats?[0], cancellationToken).ConfigureAwait(false);
        var attention = new List<(int, float)>();
        if (weights is not null)
        {
            // The model read the last weights.Length done partitions, oldest first.
            IReadOnlyList<int> done = s.DoneNumbers;
            for (int k = 0; k < weights.Length && k < done.Count; k++)
            {
                attention.Add((done[done.Count - weights.Length + k], weights[k]));
            }
        }

        return (scores[0], attention, s);
    }

    /// <summary>Scores <paramref name="candidates"/> for <paramref name="user"/>: the scores in candidate order with the state they were computed from.</summary>
    /// <exception cref="VectorDimensionException">The stored vectors do not fit the model.</exception>
    public async Task<(float[] Scores, RankingState State)> RankAsync(IRankModel model, string user, IReadOnlyList<string> candidates, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        RankingState s = StateOf(user, model);
        float[] scores = await model.ScoreAsync(user, s.History, candidates, model.FusionInputSize is null ? null : s.Partitions, Stats(model, user, candidates), cancellationToken).ConfigureAwait(false);
        return (scores, s);
    }

    /// <summary>Each candidate's point-in-time statistics now, for a model that reads them (null otherwise).</summary>
    public IReadOnlyList<float[]>? Stats(IRankModel model, string user, IReadOnlyList<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(candidates);
        if (!model.ReadsStats)
        {
            return null;
        }

        IStatsSource stats = state.Stats ?? throw new InvalidOperationException("the model reads point-in-time statistics but the service keeps none");
        return stats.Rows(user, [.. candidates.Select(c => (c, state.Store.FindItemMetadata(c)?.Categories ?? (IReadOnlyList<string>)[]))]);
    }
}
