using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Interests;
using Liber.Interests.Learning;
using Liber.Knowledge;
using Liber.Pipeline;
using Liber.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Liber.Serve.Nearline;

/// <summary>
/// The nearline pipeline: drains the store's <see cref="IInterestJobQueue"/> in per-user partition order, runs UIL
/// (<see cref="InterestLearner"/> with the response cache, retries and budget of its options) and the knowledge
/// encoder (<see cref="KnowledgeEncoder"/> with the embedding cache and zero vectors for empty texts), and stores texts
/// and vectors. It runs the offline chain's own learn-and-encode step (<see cref="KnowledgeStep"/>, as Liber.Pipeline's LiberVectorSource does): the learner runs over a data set
/// holding the user's events up to the leased partitions, with every earlier partition in the cascade (their answers
/// come from the response cache; the template writer is deterministic), so the texts and vectors of a partition are
/// those the offline chain gives. Ingest never waits for it: closed partitions only wake it up.
/// A failed attempt is recorded with its error and retried with exponential backoff up to
/// <see cref="NearlineOptions.MaxAttempts"/>; a failed partition blocks the user's later ones (their prompts need
/// its summary). Jobs leased when the process died are taken again when the store reopens.
/// </summary>
public sealed partial class NearlineWorker : BackgroundService
{
    private readonly ServeState _state;
    private readonly ILogger<NearlineWorker> _log;

    /// <summary>Creates the worker.</summary>
    public NearlineWorker(ServeState state, ILogger<NearlineWorker> log)
    {
        ArgumentNullException.ThrowIfNull(state);
        _state = state;
        _log = log;
    }

    /// <summary>Rounds completed (tests and diagnostics).</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    private long _rounds;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ServeOptions o = _state.Options;
        InterestBackend backend = o.Backend();
        using var cache = new ResponseCache(o.LlmCachePath);
        using KnowledgeEncoder encoder = KnowledgeEncoder.Create(o.Encoder, o.EmbeddingCachePath, new KnowledgeEncoderOptions { EmptyTexts = EmptyTextPolicy.ZeroVector });
        LogStarted(_log, backend.Name, backend.Model, o.Encoder);
        while (!stoppingToken.IsCancellationRequested)
        {
            bool worked;
            try
            {
                worked = await RoundAsync(backend, cache, encoder, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // the worker must outlive any one round's failure; the error is logged and the jobs retried
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogRoundFailed(_log, e.GetType().Name, e.Message);
                worked = false;
            }

            Interlocked.Increment(ref _rounds);
            if (!worked)
            {
                try
                {
                    await _state.Wake.WaitAsync(o.Nearline.PollInterval, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>One round: lease due users, learn and encode their partitions, record the outcomes. Returns whether anything was leased.</summary>
    internal async Task<bool> RoundAsync(InterestBackend backend, ResponseCache? cache, KnowledgeEncoder encoder, CancellationToken ct)
    {
        ServeOptions o = _state.Options;
        IServingStore store = _state.Store;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        IReadOnlyList<JobLease> leases = store.Lease(o.Nearline.UsersPerRound, o.Nearline.PartitionsPerUser, now, (long)o.Nearline.Lease.TotalMilliseconds);
        if (leases.Count == 0)
        {
            return false;
        }

        var outcomes = new List<JobOutcome>();
        var work = new List<(JobLease Lease, IReadOnlyList<InterestJob> Jobs)>();
        foreach (JobLease l in leases)
        {
            IReadOnlyList<InterestJob> jobs = store.Jobs(l.User);
            if (jobs.Count <= l.Last || jobs.Take(l.Last + 1).Select((j, k) => j.Partition.Number == k && (k >= l.First || j.Status == InterestJobStatus.Done)).Contains(false))
            {
                outcomes.AddRange(Fail(l, $"partitions 0..{l.Last} of user {store.UserName(l.User)} are not all in the store in order"));
                continue;
            }

            work.Add((l, jobs));
        }

        if (work.Count > 0)
        {
            try
            {
                outcomes.AddRange(await LearnAndEncodeAsync(work, backend, cache, encoder, ct).ConfigureAwait(false));
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                string error = $"{e.GetType().Name}: {e.Message}";
                foreach ((JobLease l, _) in work)
                {
                    outcomes.AddRange(Fail(l, error));
                }
            }
        }

        store.Record(outcomes);
        foreach (JobOutcome r in outcomes)
        {
            if (r.Status == InterestJobStatus.Done)
            {
                _state.Metrics.JobsDone.Inc();
            }
            else
            {
                _state.Metrics.JobAttemptsFailed.Inc();
                LogJobFailed(_log, store.UserName(r.User), r.Number, r.Status == InterestJobStatus.Failed ? "given up" : "will retry", r.Error ?? "?");
            }
        }

        _state.Invalidate(outcomes.Select(r => r.User));
        return true;
    }

    private async Task<List<JobOutcome>> LearnAndEncodeAsync(List<(JobLease Lease, IReadOnlyList<InterestJob> Jobs)> work, InterestBackend backend, ResponseCache? cache, KnowledgeEncoder encoder, CancellationToken ct)
    {
        ServeOptions o = _state.Options;
        IServingStore store = _state.Store;

        // A data set of the leased users (dense 0..n-1) with their events up to the last leased partition, over the live catalog.
        Dataset catalog = store.CatalogSnapshot();
        var users = new IdMap();
        var events = new EventTable();
        var profiles = new List<UserProfile?>();
        var byUser = new List<IReadOnlyList<Partition>>();
        foreach ((JobLease l, IReadOnlyList<InterestJob> jobs) in work)
        {
            string name = store.UserName(l.User);
            int u = users.GetOrAdd(name.AsSpan());
            profiles.Add(_state.Profile(name));
            var parts = new List<Partition>();
            for (int k = 0; k <= l.Last; k++)
            {
                foreach (PartitionEvent e in jobs[k].Events)
                {
                    events.Add(u, e.Item, e.Timestamp, e.Rating);
                }

                parts.Add(jobs[k].Partition with { User = u });
            }

            byUser.Add(parts);
        }

        var dataset = new Dataset(catalog.Kind, store.Path, users, catalog.Items, events, catalog.Catalog, catalog.CatalogItems, profiles, o.Scale, new LoadReport());
        var streams = UserStreams.Build(dataset);
        var outcomes = new List<JobOutcome>();
        var ready = new List<(JobLease Lease, int U)>();
        for (int u = 0; u < work.Count; u++)
        {
            JobLease l = work[u].Lease;
            int expected = byUser[u][^1].End + 1;
            if (streams.Length(u) != expected)
            {
                // UserStreams drops a repeated (item, timestamp) of a user, as the offline protocol does; the store keeps it.
                outcomes.AddRange(Fail(l, $"user {store.UserName(l.User)} has {expected - streams.Length(u)} repeated (item, timestamp) events that the offline protocol drops: its partitions cannot be learned as offline"));
                byUser[u] = [];
                continue;
            }

            ready.Add((l, u));
        }

        var set = PartitionSet.FromUsers(byUser, new int[work.Count], "serve");
        var wanted = new List<(int User, int Number)>();
        var leases = new Dictionary<int, JobLease>();
        foreach ((JobLease l, int u) in ready)
        {
            leases[u] = l;
            for (int k = l.First; k <= l.Last; k++)
            {
                wanted.Add((u, k));
            }
        }

        // The offline chain's step; online, a partition whose texts did not come out fails and its user's later ones wait for it.
        KnowledgeResult result = await new KnowledgeStep(backend, o.Learn, cache, encoder).RunAsync(streams, set, wanted, MissingTextPolicy.StopUser, cancellationToken: ct).ConfigureAwait(false);
        _state.Metrics.LlmCalls.Inc(result.Learned.Report.LlmCalls);
        _state.Metrics.LlmCacheHits.Inc(result.Learned.Report.CacheHits);
        _state.Metrics.EncoderCalls.Inc(result.Encoding?.ModelCalls ?? 0);
        foreach (PartitionKnowledge p in result.Partitions)
        {
            JobLease l = leases[p.User];
            outcomes.Add(p.SummaryVector is null
                ? FailOne(l.User, p.Number, l.Attempts, p.Error ?? "no text")
                : new JobOutcome(l.User, p.Number, InterestJobStatus.Done, p.Summary, p.Shift, p.SummaryVector, p.ShiftVector));
        }

        return outcomes;
    }

    private List<JobOutcome> Fail(JobLease l, string error) => [FailOne(l.User, l.First, l.Attempts, error)];

    private JobOutcome FailOne(int user, int number, int attempts, string error)
    {
        NearlineOptions n = _state.Options.Nearline;
        int attempt = attempts + 1;
        if (attempt >= n.MaxAttempts)
        {
            return new JobOutcome(user, number, InterestJobStatus.Failed, Error: error);
        }

        double delay = Math.Min(n.MaxRetryDelay.TotalMilliseconds, n.RetryDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return new JobOutcome(user, number, InterestJobStatus.Pending, Error: error, RetryAt: DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)delay);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "nearline worker started: UIL backend {Backend} ({Model}), encoder {Encoder}")]
    private static partial void LogStarted(ILogger logger, string backend, string model, string encoder);

    [LoggerMessage(Level = LogLevel.Error, Message = "nearline round failed: {Type}: {Message}")]
    private static partial void LogRoundFailed(ILogger logger, string type, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "interest job of user {User} partition {Number} failed ({Outcome}): {Error}")]
    private static partial void LogJobFailed(ILogger logger, string user, int number, string outcome, string error);
}
