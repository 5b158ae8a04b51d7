using System.Collections.Concurrent;
using System.Diagnostics;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Interests.Prompts;
using Liber.Interests.Template;
using Microsoft.Extensions.AI;
using Polly;

namespace Liber.Interests.Learning;

/// <summary>
/// UIL runner: turns every closed partition into an interest summary and shift. Within a user partitions
/// are learned in cascade order (the prompt of partition p carries the summary of p-1); users run in
/// parallel with at most <see cref="LearnOptions.MaxInFlight"/> requests in flight. Every answer is
/// validated, then stored in the content-addressed cache before it is used, so a rerun makes no call for
/// work already done and a killed run resumes where it stopped. When a partition fails, the user's later
/// partitions are skipped (their prompts need its summary) and a rerun continues from it.
/// </summary>
public sealed class InterestLearner
{
    private readonly UserStreams _streams;
    private readonly InterestBackend _backend;
    private readonly LearnOptions _options;
    private readonly ResponseCache? _cache;
    private readonly ITokenCounter _tokens;
    private readonly PromptRenderer _renderer;

    /// <summary>Creates a learner. The cache is optional (without it every run calls the backend for everything).</summary>
    public InterestLearner(UserStreams streams, InterestBackend backend, LearnOptions options, ResponseCache? cache = null, ITokenCounter? tokens = null)
    {
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _streams = streams;
        _backend = backend;
        _options = options;
        _cache = cache;
        _tokens = tokens ?? new Cl100kTokenCounter();
        _renderer = new PromptRenderer(streams, PromptTemplates.Load(options.Domain), options.Limits);
    }

    /// <summary>The prompt renderer in use.</summary>
    public PromptRenderer Renderer => _renderer;

    /// <summary>Learns every partition of <paramref name="partitions"/>.</summary>
    public async Task<LearnResult> RunAsync(PartitionSet partitions, IProgress<LearnProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        var run = new RunState(this, partitions, progress, cancellationToken);
        var sw = Stopwatch.StartNew();
        var users = Enumerable.Range(0, partitions.UserCount).Where(u => partitions.Of(u).Length > 0).ToArray();
        if (_backend.Chat is null)
        {
            var writer = new TemplateInterestWriter(_streams, _options.Domain, _options.TemplateVersion);
            Parallel.ForEach(users, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, u => run.WriteTemplate(writer, u));
        }
        else
        {
            await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxInFlight, CancellationToken = cancellationToken },
                (u, _) => new ValueTask(run.LearnUserAsync(u))).ConfigureAwait(false);
        }

        return run.Finish(sw.Elapsed.TotalSeconds);
    }

    /// <summary>The state of one run: records, counters and the resilience pipeline.</summary>
    private sealed class RunState
    {
        private readonly InterestLearner _l;
        private readonly PartitionSet _partitions;
        private readonly IProgress<LearnProgress>? _progress;
        private readonly CancellationToken _ct;
        private readonly InterestRecord[] _records;
        private readonly int[] _offsets;
        private readonly ResiliencePipeline _pipeline;
        private readonly ConcurrentDictionary<string, long> _attemptErrors = new(StringComparer.Ordinal);
        private readonly string _version;
        private long _calls, _hits, _retries, _promptTokens, _completionTokens;
        private int _finished, _failed;
        private volatile bool _stopped;

        public RunState(InterestLearner learner, PartitionSet partitions, IProgress<LearnProgress>? progress, CancellationToken ct)
        {
            _l = learner;
            _partitions = partitions;
            _progress = progress;
            _ct = ct;
            _records = new InterestRecord[partitions.Count];
            _offsets = new int[partitions.UserCount + 1];
            for (int u = 0; u < partitions.UserCount; u++)
            {
                _offsets[u + 1] = _offsets[u] + partitions.Of(u).Length;
            }

            _version = learner._backend.Chat is null ? learner._options.TemplateVersion : learner._renderer.Templates.Version;
            _pipeline = Resilience.Build(learner._options.Resilience, () => _ct, reason =>
            {
                Interlocked.Increment(ref _retries);
                _attemptErrors.AddOrUpdate(reason, 1, (_, n) => n + 1);
            });
        }

        public void WriteTemplate(TemplateInterestWriter writer, int user)
        {
            ReadOnlySpan<Partition> ps = _partitions.Of(user);
            RangeStats? previous = null;
            for (int k = 0; k < ps.Length; k++)
            {
                var stats = RangeStats.Of(_l._streams, user, ps[k].Start, ps[k].End);
                string summary = writer.Summarize(stats);
                string? shift = previous is null ? null : writer.Shift(previous, stats);
                long completion = _l._tokens.Count(summary) + (shift is null ? 0 : _l._tokens.Count(shift));
                Interlocked.Add(ref _completionTokens, completion);
                Store(user, k, Record(ps[k], summary, shift, InterestStatus.Done, null, 0, completion, 0));
                previous = stats;
            }
        }

        public async Task LearnUserAsync(int user)
        {
            Partition[] ps = _partitions.Of(user).ToArray();
            string? previous = null;
            string? blocked = null;
            for (int k = 0; k < ps.Length; k++)
            {
                Partition p = ps[k];
                if (blocked is not null)
                {
                    Store(user, k, Record(p, null, null, InterestStatus.Skipped, blocked, 0, 0, 0));
                    continue;
                }

                var acc = new Usage();
                string? summary = null;
                try
                {
                    string? shift = null;
                    if (_l._options.Mode == LearnMode.OneCall)
                    {
                        ChatPrompt prompt = _l._renderer.OneCall(user, p.Start, p.End, previous, isFirst: k == 0);
                        string json = await AskAsync(prompt, json: true, text =>
                        {
                            var (a, b) = AnswerValidator.OneCall(text, k == 0, _l._options.MaxAnswerChars);
                            return AnswerValidator.CanonicalOneCall(a, b);
                        }, acc).ConfigureAwait(false);
                        (summary, shift) = AnswerValidator.OneCall(json, k == 0, _l._options.MaxAnswerChars);
                    }
                    else
                    {
                        summary = await AskAsync(_l._renderer.Summary(user, p.Start, p.End, previous), json: false, text => AnswerValidator.Text(text, _l._options.MaxAnswerChars), acc).ConfigureAwait(false);
                        if (k > 0)
                        {
                            shift = await AskAsync(_l._renderer.Shift(user, p.Start, p.End, previous!, summary), json: false, text => AnswerValidator.Text(text, _l._options.MaxAnswerChars), acc).ConfigureAwait(false);
                        }
                    }

                    Store(user, k, Record(p, summary, shift, InterestStatus.Done, null, acc.Prompt, acc.Completion, acc.Calls));
                    previous = summary;
                }
                catch (Exception e) when (!_ct.IsCancellationRequested)
                {
                    string reason = Resilience.Classify(e);
                    bool budget = e is BudgetExhaustedException;
                    if (!budget)
                    {
                        Interlocked.Increment(ref _failed);
                        if (e is InvalidAnswerException || Resilience.IsRetriable(e, _ct))
                        {
                            // The final attempt's fault (earlier ones were counted as retries).
                            _attemptErrors.AddOrUpdate(reason, 1, (_, n) => n + 1);
                        }
                    }

                    Store(user, k, Record(p, summary, null, budget ? InterestStatus.Skipped : InterestStatus.Failed, reason, acc.Prompt, acc.Completion, acc.Calls));
                    blocked = budget ? reason : $"earlier partition {p.Number} failed";
                }
            }
        }

        /// <summary>One validated answer: from the cache, or from the backend through the resilience pipeline (then cached).</summary>
        private async Task<string> AskAsync(ChatPrompt prompt, bool json, Func<string, string> validate, Usage acc)
        {
            SamplingOptions s = _l._options.Sampling;
            string key = ResponseCache.Key(_version, _l._backend.Name, _l._backend.Model, s.Describe(json), prompt.System, prompt.User);
            if (_l._cache?.Get(key) is CachedAnswer hit)
            {
                Interlocked.Increment(ref _hits);
                acc.Prompt += hit.PromptTokens;
                acc.Completion += hit.CompletionTokens;
                return hit.Text;
            }

            ChatMessage[] messages = [new(ChatRole.System, prompt.System), new(ChatRole.User, prompt.User)];
            var options = new ChatOptions
            {
                ModelId = _l._backend.Model,
                Temperature = s.Temperature,
                MaxOutputTokens = s.MaxOutputTokens,
                Seed = s.Seed,
                ResponseFormat = json && s.JsonResponseFormat ? ChatResponseFormat.Json : null,
            };
            int invalid = 0;
            CachedAnswer answer = await _pipeline.ExecuteAsync(async ct =>
            {
                TakeBudget();
                acc.Calls++;
                ChatResponse response = await _l._backend.Chat!.GetResponseAsync(messages, options, ct).ConfigureAwait(false);
                long promptTokens = response.Usage?.InputTokenCount ?? _l._tokens.Count(prompt.System) + _l._tokens.Count(prompt.User);
                long completionTokens = response.Usage?.OutputTokenCount ?? _l._tokens.Count(response.Text ?? string.Empty);
                Interlocked.Add(ref _promptTokens, promptTokens);
                Interlocked.Add(ref _completionTokens, completionTokens);
                acc.Prompt += promptTokens;
                acc.Completion += completionTokens;
                try
                {
                    return new CachedAnswer(validate(response.Text ?? string.Empty), promptTokens, completionTokens);
                }
                catch (InvalidAnswerException e) when (++invalid >= _l._options.MaxInvalidAnswers)
                {
                    throw new InvalidAnswerException(e.Reason) { Retriable = false };
                }
            }, _ct).ConfigureAwait(false);
            _l._cache?.Put(key, answer, _l._backend.Name, _l._backend.Model, _version);
            return answer.Text;
        }

        private void TakeBudget()
        {
            LearnOptions o = _l._options;
            if (_stopped)
            {
                throw new BudgetExhaustedException();
            }

            if (o.MaxTokens is long maxTokens && Interlocked.Read(ref _promptTokens) + Interlocked.Read(ref _completionTokens) >= maxTokens)
            {
                _stopped = true;
                throw new BudgetExhaustedException();
            }

            long calls = Interlocked.Increment(ref _calls);
            if (o.MaxCalls is long maxCalls && calls > maxCalls)
            {
                Interlocked.Decrement(ref _calls);
                _stopped = true;
                throw new BudgetExhaustedException();
            }
        }

        private InterestRecord Record(Partition p, string? summary, string? shift, InterestStatus status, string? reason, long prompt, long completion, int calls) =>
            new(p.User, p.Number, summary, shift, status, reason, _l._backend.Name, _l._backend.Model, _version, prompt, completion, calls);

        private void Store(int user, int k, InterestRecord record)
        {
            _records[_offsets[user] + k] = record;
            int finished = Interlocked.Increment(ref _finished);
            _progress?.Report(new LearnProgress(finished, _records.Length, Interlocked.Read(ref _calls), Interlocked.Read(ref _hits), Volatile.Read(ref _failed)));
        }

        public LearnResult Finish(double seconds)
        {
            var texts = new InterestTexts(_partitions, _records);
            var report = new LearnReport
            {
                Backend = _l._backend.Name,
                Model = _l._backend.Model,
                TemplateVersion = _version,
                Mode = _l._backend.Chat is null ? "template" : _l._options.Mode == LearnMode.OneCall ? "one-call" : "two-call",
                Partitions = _records.Length,
                Done = _records.Count(r => r.Status == InterestStatus.Done),
                Failures = _records.Count(r => r.Status == InterestStatus.Failed),
                Skipped = _records.Count(r => r.Status == InterestStatus.Skipped),
                LlmCalls = _calls,
                CacheHits = _hits,
                Retries = _retries,
                FailuresByReason = _records.Where(r => r.Status != InterestStatus.Done).GroupBy(r => r.Reason ?? "unknown").ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
                AttemptErrors = new SortedDictionary<string, long>(_attemptErrors, StringComparer.Ordinal),
                PromptTokens = _promptTokens,
                CompletionTokens = _completionTokens,
                BudgetExhausted = _stopped,
                Seconds = Math.Round(seconds, 3),
            };
            return new LearnResult(texts, report);
        }

        /// <summary>Tokens and calls of one partition's answers.</summary>
        private sealed class Usage
        {
            public long Prompt { get; set; }

            public long Completion { get; set; }

            public int Calls { get; set; }
        }
    }
}
