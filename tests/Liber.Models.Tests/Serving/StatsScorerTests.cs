using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Serving;
using Liber.Models.Training;

namespace Liber.Models.Tests.Serving;

/// <summary>
/// Online = offline with the point-in-time statistics on: the scorer, given each candidate's statistics as
/// <see cref="PointInTimeStats"/> computes them, scores exactly as the collator; a stats-on checkpoint without them is refused.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class StatsScorerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "liber-stats-scorer-" + Guid.NewGuid().ToString("N"));
    private readonly Dataset _data = SyntheticWorld.Generate(new SyntheticOptions { Seed = 11, Users = 20, Items = 70, MeanEvents = 45, MeanRegimeLength = 20 }).Dataset;

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string Train(string backbone, bool stats, NumericEncoding numeric = NumericEncoding.Raw)
    {
        string dir = Path.Combine(_root, $"{backbone}-{stats}-{numeric}");
        var options = new RunOptions
        {
            Backbone = backbone,
            Options = new BackboneOptions { EmbeddingSize = 8, Hidden = [16], AttentionHidden = [8], LongLength = 12, SearchLength = 6, Stats = stats, Numeric = numeric, Recent = numeric != NumericEncoding.Raw },
            Training = new TrainOptions { Epochs = 2, BatchSize = 64, LearningRate = 0.01, Seed = 2 },
            Samples = new SampleOptions { HistoryLength = 6 },
            CheckpointDirectory = dir,
        };
        TrainingRun.Execute(_data, options);
        return dir;
    }

    [Theory]
    [InlineData("din", NumericEncoding.Raw)]
    [InlineData("deepfm", NumericEncoding.Raw)]
    [InlineData("sim", NumericEncoding.Raw)]
    [InlineData("din", NumericEncoding.Periodic)]
    [InlineData("deepfm", NumericEncoding.Periodic)]
    public void Online_scores_with_statistics_equal_offline_collator_scores(string backbone, NumericEncoding numeric)
    {
        TorchRuntime.Configure(1, 1);
        string dir = Train(backbone, stats: true, numeric);
        (CtrModel model, _) = Checkpoint.Load(dir);
        SampleSet samples;
        float[] offline;
        PointInTimeStats stats;
        using (model)
        {
            samples = SampleSet.Build(UserStreams.Build(_data), new SampleOptions { HistoryLength = model.Map.HistoryLength });
            FeatureTables tables = FeatureTables.Build(samples, model.Map.MaxPartitions);
            Collator collator = Collator.For(model, samples, tables, null);
            stats = collator.Stats!;
            offline = Trainer.Predict(model, collator, samples.RangeOf(Split.Test));
        }

        using OnlineScorer scorer = OnlineScorer.Load(dir);
        Assert.True(scorer.ReadsStats);
        UserStreams streams = samples.Streams;
        (int offset, int length) = samples.RangeOf(Split.Test).GetOffsetAndLength(samples.Count);
        Assert.True(length > 20, $"fixture has only {length} test samples");
        for (int i = 0; i < length; i++)
        {
            (int user, int index, int row) = samples[offset + i];
            var history = new List<HistoryEntry>();
            for (int r = streams.Offsets[user]; r < row; r++)
            {
                history.Add(new HistoryEntry(_data.Items.External(streams.Items[r]), streams.Ratings[r]));
            }

            // The sample's item last, after a candidate with other statistics: each row reads its own candidate's values.
            string[] candidates = [_data.Items.External(0), _data.Items.External(streams.Items[row])];
            float[][] rows = [[.. Enumerable.Repeat(0.5f, PointInTimeStats.Width)], stats.Row(row).ToArray()];
            float[] online = scorer.Score(_data.Users.External(user), history, candidates, null, rows);
            Assert.True(Math.Abs(offline[i] - online[^1]) <= 1e-5, $"sample {offset + i} (user {user}, index {index}): offline {offline[i]}, online {online[^1]}");
        }

        // Without the statistics a stats-on checkpoint is refused, with a message that says what is missing.
        string someone = _data.Users.External(0), item = _data.Items.External(1);
        NotSupportedException refused = Assert.Throws<NotSupportedException>(() => scorer.Score(someone, [], [item], null));
        Assert.Contains("stats on", refused.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => scorer.Score(someone, [], [item], null, [new float[3]]));
    }

    [Fact]
    public void A_checkpoint_without_statistics_refuses_them()
    {
        TorchRuntime.Configure(1, 1);
        using OnlineScorer scorer = OnlineScorer.Load(Train("din", stats: false));
        Assert.False(scorer.ReadsStats);
        string someone = _data.Users.External(0), item = _data.Items.External(1);
        Assert.Single(scorer.Score(someone, [], [item], null));
        Assert.Throws<ArgumentException>(() => scorer.Score(someone, [], [item], null, [new float[PointInTimeStats.Width]]));
    }
}
