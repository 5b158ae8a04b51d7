using Liber.Models;
using Liber.Models.Serving;

namespace Liber.Serve;

/// <summary>Loads the rank model of a checkpoint folder.</summary>
public static class ServeModels
{
    /// <summary>The loader <c>liber serve --checkpoint</c> uses: the checkpoint's <see cref="OnlineScorer"/>, with one torch thread per forward pass (concurrent requests are the parallelism).</summary>
    public static Func<string, IRankModel> Loader { get; } = dir =>
    {
        TorchRuntime.Configure(1, 42);
        return new OnlineScorerModel(OnlineScorer.Load(dir));
    };

    /// <summary><see cref="OnlineScorer"/> as an <see cref="IRankModel"/>.</summary>
    private sealed class OnlineScorerModel(OnlineScorer scorer) : IRankModel
    {
        public string ModelName => scorer.ModelName;

        public int? FusionInputSize => scorer.FusionInputSize;

        public int HistoryWindow => scorer.HistoryWindow;

        public int MaxPartitions => scorer.MaxPartitions;

        public void UpsertItem(string itemId, IReadOnlyList<string> categories) => scorer.UpsertItem(itemId, categories);

        public float[] Score(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions) =>
            scorer.Score(user, [.. history.Select(h => new HistoryEntry(h.Item, h.Rating))], candidates, partitions?.Select(p => new PartitionVector(p.Summary, p.Shift)).ToList());

        public Task<float[]> ScoreAsync(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions, CancellationToken cancellationToken) =>
            scorer.ScoreAsync(user, [.. history.Select(h => new HistoryEntry(h.Item, h.Rating))], candidates, partitions?.Select(p => new PartitionVector(p.Summary, p.Shift)).ToList(), cancellationToken);

        public bool ReadsStats => scorer.ReadsStats;

        public Task<float[]> ScoreAsync(string user, IReadOnlyList<(string Item, float Rating)> history, IReadOnlyList<string> candidates, IReadOnlyList<(float[] Summary, float[]? Shift)>? partitions, IReadOnlyList<float[]>? stats, CancellationToken cancellationToken) =>
            scorer.ScoreAsync(user, [.. history.Select(h => new HistoryEntry(h.Item, h.Rating))], candidates, partitions?.Select(p => new PartitionVector(p.Summary, p.Shift)).ToList(), stats, cancellationToken);

        public Task<float[]?> AttentionAsync(string user, IReadOnlyList<(string Item, float Rating)> history, string candidate, IReadOnlyList<(float[] Summary, float[]? Shift)> partitions, float[]? stats, CancellationToken cancellationToken) =>
            scorer.AttentionAsync(user, [.. history.Select(h => new HistoryEntry(h.Item, h.Rating))], candidate, [.. partitions.Select(p => new PartitionVector(p.Summary, p.Shift))], stats, cancellationToken);

        public void Dispose() => scorer.Dispose();
    }
}
