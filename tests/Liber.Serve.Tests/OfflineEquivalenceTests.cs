using System.Net;
using System.Text.Json;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Interests.Learning;
using Liber.Models;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Fusion;
using Liber.Models.Training;
using Liber.Pipeline;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Liber.Serve.Tests;

/// <summary>
/// The service against the offline chain on one tiny synthetic world (count k=5, template UIL, MiniLM): the nearline
/// worker's texts and vectors are those of LiberVectorSource, and /v1/rank's score of a test sample equals the
/// offline (collator + model) score of the same checkpoint, as <c>liber evaluate</c> computes it.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class OfflineEquivalenceTests(ITestOutputHelper output) : IDisposable
{
    private static readonly PartitionOptions Policy = new() { Policy = "count", K = 5 };
    private static readonly LearnOptions Learn = new() { Domain = "movies" };
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-serve-eq-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dataset World(int users) => SyntheticWorld.Generate(new SyntheticOptions { Seed = 11, Users = users, Items = 60, MeanEvents = 40, MeanRegimeLength = 20 }).Dataset;

    private LiberVectorSource OfflineSource(string cache) => LiberVectorSource.For(
        new LiberPipelineOptions { Partition = Policy, Learn = Learn, Encoder = "minilm", EmbeddingCache = Path.Combine(_dir, cache) },
        new LlmBackend(InterestBackend.Template(), null));

    private static Func<string, ServeOptions> Serving(Dataset seed, string? checkpoint = null) => d => ServiceHost.Options(d, worker: true) with
    {
        Seed = seed,
        Learn = Learn,
        Encoder = "minilm",
        CheckpointDirectory = checkpoint,
    };

    /// <summary>Feeds events of the data set (all, or those of one user before an index) in global time order, in batches of 50.</summary>
    private static async Task IngestAsync(ServiceHost host, UserStreams streams, Func<int, int, bool> keep)
    {
        Dataset d = streams.Dataset;
        var batch = new List<object>();
        foreach (int row in StoreFeeder.GlobalOrder(streams))
        {
            int user = streams.UserOfRow(row);
            if (!keep(user, row - streams.Offsets[user]))
            {
                continue;
            }

            batch.Add(new { event_id = (long)streams.Positions[row], user = d.Users.External(user), item = d.Items.External(streams.Items[row]), timestamp = streams.Timestamps[row], rating = streams.Ratings[row] });
            if (batch.Count == 50)
            {
                await Flush();
            }
        }

        await Flush();

        async Task Flush()
        {
            if (batch.Count == 0)
            {
                return;
            }

            HttpResponseMessage r = await host.PostAsync("/v1/events", new { events = batch });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(0, (await ServiceHost.ReadAsync(r)).GetProperty("rejected").GetArrayLength());
            batch.Clear();
        }
    }

    [Fact]
    public async Task Nearline_texts_and_vectors_are_those_of_the_offline_chain()
    {
        Dataset data = World(4);
        UserStreams streams = UserStreams.Build(data);
        SampleSet samples = SampleSet.Build(streams, new SampleOptions());
        using LiberVectorSource offline = OfflineSource("offline-embeddings.db");
        using PartitionVectors vectors = offline.Build(samples);
        float[] summaries = vectors.Summaries.data<float>().ToArray(), shifts = vectors.Shifts.data<float>().ToArray();
        int dim = vectors.Dimension;

        await using ServiceHost host = await ServiceHost.StartAsync(Serving(data));
        await IngestAsync(host, streams, (_, _) => true);
        await host.WaitForJobsAsync();

        PartitionSet set = offline.Partitions!;
        Assert.True(set.Count >= 8, $"fixture has only {set.Count} partitions");
        int compared = 0;
        List<Partition> allRows = [.. set.All];
        for (int u = 0; u < streams.UserCount; u++)
        {
            int dense = host.State.Store.FindUser(data.Users.External(u))!.Value;
            IReadOnlyList<InterestJob> jobs = host.State.Store.Jobs(dense);
            Partition[] expected = set.Of(u).ToArray();
            Assert.Equal(expected.Length, jobs.Count);
            JsonElement api = await ServiceHost.ReadAsync(await host.GetAsync($"/v1/users/{Uri.EscapeDataString(data.Users.External(u))}/interests"));
            JsonElement[] parts = [.. api.GetProperty("partitions").EnumerateArray()];
            for (int k = 0; k < jobs.Count; k++)
            {
                int row = allRows.IndexOf(expected[k]);
                InterestJob j = jobs[k];
                Assert.Equal((expected[k].Start, expected[k].End, expected[k].ContentHash), (j.Partition.Start, j.Partition.End, j.Partition.ContentHash));
                Assert.Equal(InterestJobStatus.Done, j.Status);
                Assert.Equal(offline.Texts!.Summary(u, k), j.Summary);
                Assert.Equal(offline.Texts!.Shift(u, k), j.Shift);
                Assert.Equal("done", parts[k].GetProperty("status").GetString());
                Assert.Equal(j.Summary, parts[k].GetProperty("summary").GetString());
                for (int x = 0; x < dim; x++)
                {
                    Assert.True(Math.Abs(summaries[(row + 1) * dim + x] - j.SummaryVector![x]) <= 1e-5, $"user {u} partition {k} summary[{x}]");
                    Assert.True(Math.Abs(shifts[(row + 1) * dim + x] - j.ShiftVector![x]) <= 1e-5, $"user {u} partition {k} shift[{x}]");
                }

                compared++;
            }
        }

        output.WriteLine($"{compared} partitions equal to the offline chain");
        string metrics = await (await host.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Contains("liber_interest_queue_depth 0", metrics, StringComparison.Ordinal);
        Assert.Contains($"liber_interest_jobs_done_total {compared}", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Rank_scores_equal_the_offline_evaluate_scores_of_the_same_checkpoint(bool stats, bool recent)
    {
        Dataset data = World(12);
        string checkpoint = Path.Combine(_dir, "ckpt");
        var run = new RunOptions
        {
            Backbone = "din",
            Options = new BackboneOptions { EmbeddingSize = 8, Hidden = [16], AttentionHidden = [8], Stats = stats, Recent = recent },
            Training = new TrainOptions { Epochs = 1, BatchSize = 64, LearningRate = 0.01, Seed = 2 },
            Samples = new SampleOptions { HistoryLength = 6 },
            MaxPartitions = 3,
            CheckpointDirectory = checkpoint,
        };
        TorchRuntime.Configure(1, 1);
        using (LiberVectorSource train = OfflineSource("train-embeddings.db"))
        {
            TrainingRun.Execute(data, run, train);
        }

        // Offline scores of the test split, as liber evaluate computes them (collator + model).
        SampleSet samples = SampleSet.Build(UserStreams.Build(data), run.Samples);
        float[] offline;
        PartitionSet set;
        (CtrModel model, _) = Checkpoint.Load(checkpoint);
        using (model)
        using (LiberVectorSource source = OfflineSource("train-embeddings.db"))
        using (PartitionVectors vectors = source.Build(samples))
        {
            FeatureTables tables = FeatureTables.Build(samples, model.Map.MaxPartitions);
            offline = Trainer.Predict(model, Collator.For(model, samples, tables, vectors), samples.RangeOf(Split.Test));
            set = source.Partitions!;
        }

        // The test sample whose user has the most visible partitions (more than P exercises the last-P rule).
        (int offset, int length) = samples.RangeOf(Split.Test).GetOffsetAndLength(samples.Count);
        UserStreams st = samples.Streams;
        bool Alone(int i) => samples[offset + i] is var (u, x, r) && (x == 0 || st.Timestamps[r - 1] < st.Timestamps[r]); // no earlier same-second event of the user
        int pick = Enumerable.Range(0, length).Where(Alone).MaxBy(i => set.VisibleCount(samples[offset + i].User, samples[offset + i].Index));
        (int user, int index, int row) = samples[offset + pick];
        long t = st.Timestamps[row];
        Assert.True(set.VisibleCount(user, index) > run.MaxPartitions, "the fixture's sample sees too few partitions");

        // The service: a fresh store (own embedding cache), the same user's events before the sample, then rank.
        await using ServiceHost host = await ServiceHost.StartAsync(Serving(data, checkpoint), ServeModels.Loader);
        // With statistics, every other user's events before the sample's second too: the item's and global counters read them.
        await IngestAsync(host, samples.Streams, (u, i) => u == user ? i < index : stats && st.Timestamps[st.Offsets[u] + i] < t);
        await host.WaitForJobsAsync();
        string target = data.Items.External(samples.Streams.Items[row]);
        string[] candidates = [data.Items.External(0), "never-seen", target];
        HttpResponseMessage r = await host.PostAsync("/v1/rank", new { user = data.Users.External(user), candidates });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        JsonElement j = await ServiceHost.ReadAsync(r);
        Assert.Equal("din+liber(attention)", j.GetProperty("model").GetString());
        Assert.Equal(Math.Min(index, run.Samples.HistoryLength), j.GetProperty("history_events").GetInt32());
        Assert.Equal(run.MaxPartitions, j.GetProperty("partitions_used").GetInt32());
        Assert.Equal(0, j.GetProperty("partitions_pending").GetArrayLength());
        Assert.Equal(stats, host.State.Stats is not null);
        JsonElement[] scores = [.. j.GetProperty("scores").EnumerateArray()];
        Assert.Equal(candidates, scores.Select(s => s.GetProperty("item").GetString()));
        float online = scores[^1].GetProperty("score").GetSingle();
        output.WriteLine($"sample {offset + pick} (user {user}, index {index}, {set.VisibleCount(user, index)} partitions): offline {offline[pick]}, online {online}");
        Assert.True(Math.Abs(offline[pick] - online) <= 1e-5, $"offline {offline[pick]}, online {online}");

        // Validation of rank bodies.
        HttpResponseMessage bad = await host.PostAsync("/v1/rank", """{"user":"u","candidates":["a",""]}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await ServiceHost.ReadAsync(bad)).GetProperty("errors").TryGetProperty("candidates[1]", out _));
        HttpResponseMessage many = await host.PostAsync("/v1/rank", new { user = "u", candidates = Enumerable.Range(0, 1001).Select(i => $"i{i}").ToArray() });
        Assert.Equal(HttpStatusCode.BadRequest, many.StatusCode);
        Assert.True((await ServiceHost.ReadAsync(many)).GetProperty("errors").TryGetProperty("candidates", out _));
    }
}
