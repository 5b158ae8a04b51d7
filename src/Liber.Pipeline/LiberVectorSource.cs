using System.Globalization;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Interests;
using Liber.Interests.Learning;
using Liber.Knowledge;
using Liber.Knowledge.Encoders;
using Liber.Models.Fusion;

namespace Liber.Pipeline;

/// <summary>What the LIBER chain needs besides the data set: UBSP policy, UIL backend and options, encoder and caches.</summary>
public sealed record LiberPipelineOptions
{
    /// <summary>UBSP policy and caps.</summary>
    public PartitionOptions Partition { get; init; } = new();

    /// <summary>UIL options (mode, domain, in-flight requests, budget).</summary>
    public LearnOptions Learn { get; init; } = new();

    /// <summary>UIL response cache (SQLite), or null for none.</summary>
    public string? LlmCache { get; init; }

    /// <summary>Encoder name: a knowledge encoder of texts (minilm, arctic-xs, openai) or <see cref="ChainEncoders.Stats"/>.</summary>
    public string Encoder { get; init; } = KnowledgeEncoders.Default;

    /// <summary>Embedding cache (SQLite), or null for none.</summary>
    public string? EmbeddingCache { get; init; }

    /// <summary>UIF variant; <c>single</c> builds one text per user instead of per partition.</summary>
    public FusionVariant Variant { get; init; } = FusionVariant.Attention;
}

/// <summary>
/// The LIBER chain as a vector source for training: UBSP partitions of the samples' streams -> UIL interest texts
/// (summary and shift per partition, cascaded, cached by content) -> knowledge-encoder vectors (cached by content)
/// -> the <see cref="PartitionVectors"/> table the collator looks up per sample. For the <c>single</c> variant (a
/// per-user baseline in the style of KAR) each user gets one summary of the events up to the train cut-off (the
/// most recent ones that fit the prompt-token cap); train samples before that cut-off do see later train events
/// through it, as in KAR; validation and test samples never see their own or later events.
/// </summary>
/// <param name="options">The chain's options.</param>
/// <param name="backend">Creates the UIL backend (template, openai or llama).</param>
/// <param name="log">Where progress lines go, or null.</param>
/// <param name="owned">A resource the source owns and disposes with itself (e.g. the backend's chat client), or null.</param>
public sealed class LiberVectorSource(LiberPipelineOptions options, Func<InterestBackend> backend, TextWriter? log = null, IDisposable? owned = null) : IPartitionVectorSource, IDisposable
{
    /// <inheritdoc />
    public void Dispose() => owned?.Dispose();

    /// <summary>
    /// The offline chain for <paramref name="backend"/>: every caller (train, evaluate, run, demo, tests) builds it here, so the
    /// backend's rules (<see cref="LlmBackend.Limit"/>) always apply. <paramref name="ownsBackend"/>: dispose the backend with the source.
    /// </summary>
    public static LiberVectorSource For(LiberPipelineOptions options, LlmBackend backend, TextWriter? log = null, bool ownsBackend = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backend);
        return new LiberVectorSource(options with { Learn = LlmBackend.Limit(backend.Backend.Name, options.Learn) }, () => backend.Backend, log, ownsBackend ? backend : null);
    }

    private string _backendName = "?";

    /// <summary>The chain's options (as <see cref="For"/> resolved them).</summary>
    public LiberPipelineOptions Options => options;

    /// <inheritdoc />
    public string Name => string.Create(CultureInfo.InvariantCulture,
        $"liber({PartitionPolicies.Create(options.Partition).Describe()}, backend={_backendName}, mode={(options.Learn.Mode == LearnMode.OneCall ? "one-call" : "two-call")}, encoder={options.Encoder}, variant={options.Variant})");

    /// <inheritdoc />
    public IReadOnlyDictionary<string, long> Accounting { get; private set; } = new Dictionary<string, long>();

    /// <summary>The interest texts of the last build (for reports and the demo).</summary>
    public InterestTexts? Texts { get; private set; }

    /// <summary>The partitions of the last build.</summary>
    public PartitionSet? Partitions { get; private set; }

    /// <inheritdoc />
    public PartitionVectors Build(SampleSet samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        UserStreams streams = samples.Streams;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var features = ItemFeatures.Build(streams.Dataset, new Cl100kTokenCounter());
        bool single = options.Variant.IsPerUser;
        PartitionSet set = single
            ? PerUserHistory.Build(samples, features, options.Partition.Caps)
            : PartitionSet.Build(streams, PartitionPolicies.Create(options.Partition), options.Partition.Caps, features);
        log?.WriteLine($"liber: {set.Count:N0} {(single ? "per-user histories" : "partitions")} ({set.Policy})");
        long partitionMs = clock.ElapsedMilliseconds;
        clock.Restart();
        if (!ChainEncoders.IsText(options.Encoder))
        {
            return BuildStats(samples, set, single, partitionMs, clock);
        }

        InterestBackend b = backend();
        _backendName = b.Name;
        KnowledgeResult k;
        using (ResponseCache? cache = options.LlmCache is null ? null : new ResponseCache(options.LlmCache))
        using (KnowledgeEncoder encoder = KnowledgeEncoder.Create(options.Encoder, options.EmbeddingCache, new KnowledgeEncoderOptions { EmptyTexts = EmptyTextPolicy.ZeroVector }))
        {
            var step = new KnowledgeStep(b, options.Learn with { Mode = single ? LearnMode.TwoCall : options.Learn.Mode }, cache, encoder);
            k = step.RunAsync(streams, set, [.. set.All.Select(p => (p.User, p.Number))], MissingTextPolicy.ZeroVector, withShifts: !single,
                Every<LearnProgress>(p => (p.Finished, p.Total), p => $"liber: interest texts {p.Finished:N0}/{p.Total:N0} ({p.LlmCalls:N0} LLM calls, {p.CacheHits:N0} cache hits, {p.Failures:N0} failures)"),
                Every<EncodeProgress>(p => (p.Done, p.Total), p => $"liber: encoded {p.Done:N0}/{p.Total:N0} texts ({p.Encoded:N0} by the model, the rest from the cache or empty)")).GetAwaiter().GetResult();
        }

        long stepMs = clock.ElapsedMilliseconds;
        Texts = k.Learned.Texts;
        Partitions = set;
        LearnReport report = k.Learned.Report;
        EncodeAccounting encoding = k.Encoding ?? new EncodeAccounting();
        log?.WriteLine($"liber: texts by {report.Backend}: {report.Done:N0} done, {report.Failures:N0} failed, {report.LlmCalls:N0} LLM calls, {report.CacheHits:N0} cache hits, {report.PromptTokens:N0} prompt tokens");
        log?.WriteLine($"liber: {encoding.Texts:N0} texts encoded by {encoding.Encoder} ({encoding.CacheHits:N0} from cache, {encoding.ModelCalls:N0} model calls, {encoding.Seconds:F1} s)");
        int n = set.Count, d = k.Dimension;
        Accounting = new Dictionary<string, long>
        {
            ["partitions"] = n,
            ["texts_done"] = report.Done,
            ["texts_failed"] = report.Failures,
            ["llm_calls"] = report.LlmCalls,
            ["llm_cache_hits"] = report.CacheHits,
            ["prompt_tokens"] = report.PromptTokens,
            ["completion_tokens"] = report.CompletionTokens,
            ["encoder_texts"] = encoding.Texts,
            ["encoder_cache_hits"] = encoding.CacheHits,
            ["encoder_calls"] = encoding.ModelCalls,
            ["dimension"] = d,

            // Wall time of each stage in this run (a stage served from the caches is fast: compare encoder_cache_hits).
            ["partition_ms"] = partitionMs,
            ["uil_ms"] = (long)(report.Seconds * 1000),
            ["encode_ms"] = Math.Max(0, stepMs - (long)(report.Seconds * 1000)),
        };

        if (single)
        {
            var perUser = new float[streams.UserCount * d];
            var present = new bool[streams.UserCount];
            foreach (PartitionKnowledge p in k.Partitions)
            {
                p.SummaryVector!.CopyTo(perUser, (long)p.User * d);
                present[p.User] = p.Summary is not null;
            }

            return PartitionVectors.PerUser(streams.UserCount, perUser, d, present);
        }

        var summaries = new float[n * d];
        var shifts = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            k.Partitions[i].SummaryVector!.CopyTo(summaries, (long)i * d);
            k.Partitions[i].ShiftVector!.CopyTo(shifts, (long)i * d);
        }

        return PartitionVectors.FromPartitions(set, summaries, shifts, d);
    }

    /// <summary>
    /// The <c>stats</c> encoder's table: each partition's statistics vector as its summary vector and, as its shift vector,
    /// the difference from the user's previous partition's (zero for a first partition and for per-user histories). No
    /// UIL and no text: <see cref="Texts"/> stays null and the text counters are zero.
    /// </summary>
    private PartitionVectors BuildStats(SampleSet samples, PartitionSet set, bool single, long partitionMs, System.Diagnostics.Stopwatch clock)
    {
        UserStreams streams = samples.Streams;
        var encoder = new Liber.Interests.Template.PartitionStatsEncoder(streams, samples.Threshold);
        _backendName = "none";
        int n = set.Count, d = encoder.Dimension;
        var summaries = new float[(long)n * d];
        var shifts = new float[(long)n * d];
        for (int i = 0; i < n; i++)
        {
            Partition p = set.All[i];
            float[] v = encoder.Encode(p);
            v.CopyTo(summaries, (long)i * d);
            if (!single && p.Number > 0)
            {
                // PartitionSet keeps a user's partitions contiguous, in number order.
                var previous = summaries.AsSpan((int)((long)(i - 1) * d), d);
                for (int j = 0; j < d; j++)
                {
                    shifts[((long)i * d) + j] = v[j] - previous[j];
                }
            }
        }

        Texts = null;
        Partitions = set;
        log?.WriteLine($"liber: {n:N0} statistics vectors of {d} dimensions (stats encoder: no LLM, no text)");
        Accounting = new Dictionary<string, long>
        {
            ["partitions"] = n,
            ["texts_done"] = 0,
            ["texts_failed"] = 0,
            ["llm_calls"] = 0,
            ["llm_cache_hits"] = 0,
            ["prompt_tokens"] = 0,
            ["completion_tokens"] = 0,
            ["encoder_texts"] = 0,
            ["encoder_cache_hits"] = 0,
            ["encoder_calls"] = 0,
            ["dimension"] = d,
            ["partition_ms"] = partitionMs,
            ["uil_ms"] = 0,
            ["encode_ms"] = clock.ElapsedMilliseconds,
        };
        if (single)
        {
            var perUser = new float[(long)streams.UserCount * d];
            var present = new bool[streams.UserCount];
            for (int i = 0; i < n; i++)
            {
                int user = set.All[i].User;
                summaries.AsSpan((int)((long)i * d), d).CopyTo(perUser.AsSpan((int)((long)user * d), d));
                present[user] = true;
            }

            return PartitionVectors.PerUser(streams.UserCount, perUser, d, present);
        }

        PartitionVectors table = PartitionVectors.FromPartitions(set, summaries, shifts, d);
        table.StatsLayout = (encoder.Categories, encoder.Decades.Count);
        return table;
    }

    /// <summary>
    /// A progress sink that writes a plain line to the log at every further tenth of the work, so that long steps stay
    /// visible in logs and pipes. It reports synchronously on the reporting thread (under a lock), never after the
    /// step has returned.
    /// </summary>
    private TenthsProgress<T>? Every<T>(Func<T, (long Done, long Total)> measure, Func<T, string> line) =>
        log is null ? null : new TenthsProgress<T>(log, measure, line);

    private sealed class TenthsProgress<T>(TextWriter log, Func<T, (long Done, long Total)> measure, Func<T, string> line) : IProgress<T>
    {
        private readonly object _gate = new();
        private long _lastTenth = -1;

        public void Report(T value)
        {
            (long done, long total) = measure(value);
            long tenth = total <= 0 ? 10 : done * 10 / total;
            lock (_gate)
            {
                if (tenth > _lastTenth)
                {
                    _lastTenth = tenth;
                    log.WriteLine(line(value));
                }
            }
        }
    }
}
