using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Fusion;
using Liber.Models.Serving;
using Liber.Models.Training;

namespace Liber.Models.Tests.Serving;

/// <summary>
/// Tiny checkpoints trained once per class through <see cref="TrainingRun"/> (so vocabulary.json is written the
/// way <c>liber train</c> writes it), on a seeded synthetic world with count(k=5) partitions and seeded vectors.
/// </summary>
public sealed class ScorerCheckpoints : IDisposable
{
    public const int Dimension = 12;

    private readonly Dictionary<string, string> _dirs = [];
    private readonly Lock _lock = new();

    public ScorerCheckpoints()
    {
        var world = SyntheticWorld.Generate(new SyntheticOptions { Seed = 11, Users = 20, Items = 70, MeanEvents = 45, MeanRegimeLength = 20 });
        Dataset = world.Dataset;
        Root = Path.Combine(Path.GetTempPath(), "liber-scorer-" + Guid.NewGuid().ToString("N"));
    }

    public Dataset Dataset { get; }

    public string Root { get; }

    /// <summary>The checkpoint of a backbone, with LIBER's fusion of <paramref name="variant"/> when given (trained on first use).</summary>
    public string Get(string backbone, string? variant = null)
    {
        string key = variant is null ? backbone : $"{backbone}+{variant}";
        lock (_lock)
        {
            if (_dirs.TryGetValue(key, out string? dir))
            {
                return dir;
            }

            dir = Path.Combine(Root, key);
            var options = new RunOptions
            {
                Backbone = backbone,
                Options = new BackboneOptions { EmbeddingSize = 8, Hidden = [16], AttentionHidden = [8], LongLength = 12, SearchLength = 6, Stats = false },
                Training = new TrainOptions { Epochs = 2, BatchSize = 64, LearningRate = 0.01, Seed = 2 },
                Samples = new SampleOptions { HistoryLength = 6 },
                FusionVariant = variant is null ? FusionVariant.Attention : FusionVariant.Parse(variant),
                MaxPartitions = variant == "single" ? 1 : 4,
                CheckpointDirectory = dir,
            };
            TrainingRun.Execute(Dataset, options, variant is null ? null : new SeededVectors(variant == "single"));
            _dirs[key] = dir;
            return dir;
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}

/// <summary>Seeded random vectors for a count(k=5) partitioning (or one per user); the same on every Build.</summary>
internal sealed class SeededVectors(bool perUser = false) : IPartitionVectorSource
{
    public string Name => "seeded";

    public IReadOnlyDictionary<string, long> Accounting { get; } = new Dictionary<string, long>();

    public PartitionSet? Set { get; private set; }

    public float[] Summaries { get; private set; } = [];

    public float[] Shifts { get; private set; } = [];

    public PartitionVectors Build(SampleSet samples)
    {
        Set = PartitionSet.Build(samples.Streams, new CountPolicy(5), new PartitionCaps(), ItemFeatures.Build(samples.Streams.Dataset, new OneToken()));
        var r = new Random(7);
        int rows = perUser ? samples.Streams.UserCount : Set.Count;
        Summaries = Enumerable.Range(0, rows * ScorerCheckpoints.Dimension).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        Shifts = Enumerable.Range(0, rows * ScorerCheckpoints.Dimension).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        return perUser
            ? PartitionVectors.PerUser(rows, Summaries, ScorerCheckpoints.Dimension)
            : PartitionVectors.FromPartitions(Set, Summaries, Shifts, ScorerCheckpoints.Dimension);
    }

    /// <summary>The vectors of the partitions a sample at (user, index) sees, oldest first, as the service would pass them.</summary>
    public List<PartitionVector> Visible(int user, int index)
    {
        int d = ScorerCheckpoints.Dimension, offset = 0;
        for (int u = 0; u < user; u++)
        {
            offset += Set!.Of(u).Length;
        }

        var list = new List<PartitionVector>();
        int visible = Set!.VisibleCount(user, index);
        for (int k = 0; k < visible; k++)
        {
            int row = offset + k;
            float[]? shift = Set.All[row].Number > 0 ? Shifts.AsSpan(row * d, d).ToArray() : null;
            list.Add(new PartitionVector(Summaries.AsSpan(row * d, d).ToArray(), shift));
        }

        return list;
    }

    private sealed class OneToken : ITokenCounter
    {
        public string Name => "one";

        public int Count(string text) => 1;
    }
}

[Collection(TorchCollection.Name)]
public sealed class OnlineScorerTests(ScorerCheckpoints checkpoints) : IClassFixture<ScorerCheckpoints>
{
    private Dataset Data => checkpoints.Dataset;

    /// <summary>Offline scores of the test split with the collator, and the samples they belong to.</summary>
    private (SampleSet Samples, float[] Offline, SeededVectors Source) Offline(string dir, string? variant)
    {
        (CtrModel model, _) = Checkpoint.Load(dir);
        using (model)
        {
            SampleSet samples = SampleSet.Build(UserStreams.Build(Data), new SampleOptions { HistoryLength = model.Map.HistoryLength });
            FeatureTables tables = FeatureTables.Build(samples, model.Map.MaxPartitions);
            var source = new SeededVectors(variant == "single");
            using PartitionVectors? vectors = variant is null ? null : source.Build(samples);

            var collator = Collator.For(model, samples, tables, vectors);
            return (samples, Trainer.Predict(model, collator, samples.RangeOf(Split.Test)), source);
        }
    }

    private List<HistoryEntry> HistoryBefore(UserStreams streams, int user, int row)
    {
        var h = new List<HistoryEntry>();
        for (int r = streams.Offsets[user]; r < row; r++)
        {
            h.Add(new HistoryEntry(Data.Items.External(streams.Items[r]), streams.Ratings[r]));
        }

        return h;
    }

    [Theory]
    [InlineData("din", null)]
    [InlineData("din", "attention")]
    [InlineData("din", "no-shift")]
    [InlineData("din", "single")]
    [InlineData("din", "category-match")]
    [InlineData("din-long", null)]
    [InlineData("sim", "attention")]
    [InlineData("deepfm", null)]
    public void Online_scores_equal_offline_collator_scores_of_real_samples(string backbone, string? variant)
    {
        TorchRuntime.Configure(1, 1);
        string dir = checkpoints.Get(backbone, variant);
        (SampleSet samples, float[] offline, SeededVectors source) = Offline(dir, variant);
        using OnlineScorer scorer = OnlineScorer.Load(dir);
        Assert.Equal(variant is null ? backbone : $"{backbone}+liber({variant})", scorer.ModelName);
        Assert.Equal(variant is null ? null : ScorerCheckpoints.Dimension, scorer.FusionInputSize);
        Assert.Equal(variant is null ? 0 : variant == "single" ? 1 : 4, scorer.MaxPartitions);

        UserStreams streams = samples.Streams;
        (int offset, int length) = samples.RangeOf(Split.Test).GetOffsetAndLength(samples.Count);
        Assert.True(length > 20, $"fixture has only {length} test samples");
        string[] others = [Data.Items.External(0), "never-seen-item", Data.Items.External(3)];
        int sawManyPartitions = 0;
        for (int i = 0; i < length; i++)
        {
            (int user, int index, int row) = samples[offset + i];
            List<HistoryEntry> history = HistoryBefore(streams, user, row);
            List<PartitionVector>? partitions = variant is null ? null
                : variant == "single" ? [new PartitionVector(source.Summaries.AsSpan(user * ScorerCheckpoints.Dimension, ScorerCheckpoints.Dimension).ToArray(), null)]
                : source.Visible(user, index);
            sawManyPartitions += partitions?.Count > scorer.MaxPartitions ? 1 : 0;
            // The sample's item last among other candidates: every row of the batch is built, not only the first.
            string[] candidates = [.. others, Data.Items.External(streams.Items[row])];
            float[] online = scorer.Score(Data.Users.External(user), history, candidates, partitions);
            Assert.Equal(candidates.Length, online.Length);
            Assert.True(Math.Abs(offline[i] - online[^1]) <= 1e-5, $"sample {offset + i} (user {user}, index {index}): offline {offline[i]}, online {online[^1]}");
        }

        if (variant is "attention" or "no-shift")
        {
            Assert.True(sawManyPartitions > 0, "no test sample sees more than P partitions: the last-P rule is not exercised");
        }
    }

    [Fact]
    public void Unknown_users_and_items_get_code_zero_and_still_score()
    {
        TorchRuntime.Configure(1, 1);
        using OnlineScorer scorer = OnlineScorer.Load(checkpoints.Get("din", "attention"));
        string known = Data.Items.External(5);
        List<HistoryEntry> history = [new(Data.Items.External(1), 5), new("unknown-in-history", 3), new(Data.Items.External(2), 1)];
        float[] a = scorer.Score("no-such-user", history, ["unknown-a", "unknown-b", known], []);
        Assert.All(a, p => Assert.InRange(p, 1e-6f, 1 - 1e-6f));
        Assert.Equal(a[0], a[1]);                                       // both unknown: identical codes (0, no categories, no fields)
        Assert.NotEqual(a[0], a[2]);
        float[] b = scorer.Score(Data.Users.External(0), history, ["unknown-a", known], []);
        Assert.NotEqual(a[2], b[1]);                                    // a known user has its embedding and profile fields
        float[] none = scorer.Score("no-such-user", [], [known], null);  // no history, no partitions
        Assert.InRange(none[0], 1e-6f, 1 - 1e-6f);
        Assert.Empty(scorer.Score("x", history, [], null));
    }

    [Fact]
    public void UpsertItem_changes_categories_and_so_the_score()
    {
        TorchRuntime.Configure(1, 1);
        using OnlineScorer scorer = OnlineScorer.Load(checkpoints.Get("din", null));
        IReadOnlyList<string> cats = scorer.Map.Categories;
        string user = Data.Users.External(1);
        List<HistoryEntry> history = [.. Enumerable.Range(0, 10).Select(i => new HistoryEntry(Data.Items.External(i), 4))];
        string known = Data.Items.External(7);
        float before = scorer.Score(user, history, ["brand-new", known], null)[0];

        scorer.UpsertItem("brand-new", ["not-a-category-of-the-checkpoint"]);
        Assert.Equal(before, scorer.Score(user, history, ["brand-new"], null)[0]);   // unknown names are dropped

        scorer.UpsertItem("brand-new", [cats[0].ToUpperInvariant(), cats[1]]);     // names match case-insensitively
        float after = scorer.Score(user, history, ["brand-new"], null)[0];
        Assert.NotEqual(before, after);

        float knownBefore = scorer.Score(user, history, [known], null)[0];
        scorer.UpsertItem(known, [cats[^1]]);
        Assert.NotEqual(knownBefore, scorer.Score(user, history, [known], null)[0]);

        // Categories of history items come from the same table: re-categorising a history item changes the score too.
        float h0 = scorer.Score(user, history, ["brand-new"], null)[0];
        scorer.UpsertItem(Data.Items.External(9), [cats[2]]);
        Assert.NotEqual(h0, scorer.Score(user, history, ["brand-new"], null)[0]);
    }

    [Fact]
    public void Load_without_vocabulary_fails_naming_the_file()
    {
        string source = checkpoints.Get("din", null);
        string copy = Path.Combine(checkpoints.Root, "no-vocabulary");
        Directory.CreateDirectory(copy);
        foreach (string f in new[] { Checkpoint.WeightsFile, Checkpoint.ConfigFile, Checkpoint.FeatureMapFile })
        {
            File.Copy(Path.Combine(source, f), Path.Combine(copy, f), overwrite: true);
        }

        Assert.True(File.Exists(Path.Combine(source, Checkpoint.VocabularyFile)));
        var e = Assert.Throws<FileNotFoundException>(() => OnlineScorer.Load(copy));
        Assert.Contains(Path.Combine(copy, "vocabulary.json"), e.Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(copy, Checkpoint.VocabularyFile), """{"version":1,"dataset":"x","rating_scale":{"min":1,"max":5,"default_threshold":4,"step":1},"users":[],"items":[]}""");
        var bad = Assert.Throws<InvalidDataException>(() => OnlineScorer.Load(copy));
        Assert.Contains("vocabulary.json", bad.Message, StringComparison.Ordinal);
        Assert.Contains("0 users", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vectors_of_the_wrong_dimension_are_rejected()
    {
        TorchRuntime.Configure(1, 1);
        using OnlineScorer scorer = OnlineScorer.Load(checkpoints.Get("din", "attention"));
        var e = Assert.Throws<ArgumentException>(() => scorer.Score("u", [], [Data.Items.External(0)], [new PartitionVector(new float[3], null)]));
        Assert.Contains($"{ScorerCheckpoints.Dimension} floats", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_calls_give_the_sequential_results()
    {
        TorchRuntime.Configure(1, 1);
        using OnlineScorer scorer = OnlineScorer.Load(checkpoints.Get("din", "attention"), maxConcurrency: 3);
        var rng = new Random(4);
        var requests = Enumerable.Range(0, 48).Select(k =>
        {
            int user = k % Data.Users.Count;
            var history = Enumerable.Range(0, rng.Next(0, 30)).Select(_ => new HistoryEntry(Data.Items.External(rng.Next(Data.Items.Count)), rng.Next(1, 6))).ToList();
            string[] candidates = [.. Enumerable.Range(0, rng.Next(1, 40)).Select(_ => Data.Items.External(rng.Next(Data.Items.Count)))];
            var parts = Enumerable.Range(0, rng.Next(0, 7)).Select(p => new PartitionVector(
                [.. Enumerable.Range(0, ScorerCheckpoints.Dimension).Select(_ => (float)rng.NextDouble())],
                p == 0 ? null : [.. Enumerable.Range(0, ScorerCheckpoints.Dimension).Select(_ => (float)rng.NextDouble())])).ToList();
            return (User: Data.Users.External(user), History: history, Candidates: candidates, Parts: parts);
        }).ToList();

        float[][] sequential = [.. requests.Select(r => scorer.Score(r.User, r.History, r.Candidates, r.Parts))];
        var concurrent = new float[requests.Count][];
        Parallel.For(0, requests.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            var r = requests[k % requests.Count];
            float[] s = scorer.Score(r.User, r.History, r.Candidates, r.Parts);
            if (k >= requests.Count * 3)
            {
                concurrent[k % requests.Count] = s;
            }
            else
            {
                Assert.Equal(sequential[k % requests.Count], s);
            }
        });
        for (int k = 0; k < requests.Count; k++)
        {
            Assert.Equal(sequential[k], concurrent[k]);
        }

        // The async path: many more requests in flight than forward slots, all queued without holding threads.
        float[][] viaAsync = await Task.WhenAll(Enumerable.Range(0, requests.Count * 2).Select(k => Task.Run(() =>
        {
            var r = requests[k % requests.Count];
            return scorer.ScoreAsync(r.User, r.History, r.Candidates, r.Parts);
        })));
        for (int k = 0; k < viaAsync.Length; k++)
        {
            Assert.Equal(sequential[k % requests.Count], viaAsync[k]);
        }
    }

    [Fact]
    public async Task ScoreAsync_waiting_for_a_slot_can_be_cancelled_and_Dispose_refuses_later_calls()
    {
        TorchRuntime.Configure(1, 1);
        OnlineScorer scorer = OnlineScorer.Load(checkpoints.Get("din", null), maxConcurrency: 1);
        string item = Data.Items.External(0);
        Assert.Single(await scorer.ScoreAsync("u", [], [item], null));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => scorer.ScoreAsync("u", [], [item], null, cancelled.Token));
        Assert.Single(scorer.Score("u", [], [item], null));               // a cancelled wait took no slot
        Assert.Equal(0, scorer.Waiting);
        scorer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => scorer.Score("u", [], [item], null));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => scorer.ScoreAsync("u", [], [item], null));
        scorer.Dispose();                                                   // twice is harmless
    }
}
