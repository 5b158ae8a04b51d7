using System.Globalization;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Interests;
using Liber.Interests.Learning;
using Liber.Knowledge;
using Liber.Knowledge.Encoders;
using Liber.Models.Fusion;

namespace Liber.Cli.Pipeline;

/// <summary>What the LIBER chain needs besides the data set: UBSP policy, UIL backend and options, encoder and caches.</summary>
public sealed record LiberPipelineOptions
{
    /// <summary>UBSP policy and caps.</summary>
    public PartitionOptions Partition { get; init; } = new();

    /// <summary>UIL options (mode, domain, in-flight requests, budget).</summary>
    public LearnOptions Learn { get; init; } = new();

    /// <summary>UIL response cache (SQLite), or null for none.</summary>
    public string? LlmCache { get; init; }

    /// <summary>Knowledge encoder name (minilm, arctic-xs, openai).</summary>
    public string Encoder { get; init; } = KnowledgeEncoders.Default;

    /// <summary>Embedding cache (SQLite), or null for none.</summary>
    public string? EmbeddingCache { get; init; }

    /// <summary>UIF variant; <c>single</c> builds one text per user instead of per partition.</summary>
    public string Variant { get; init; } = "attention";
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

    private string _backendName = "?";

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
        bool single = options.Variant == "single";
        PartitionSet set = single
            ? PerUserHistory(samples, features, options.Partition.Caps)
            : PartitionSet.Build(streams, PartitionPolicies.Create(options.Partition), options.Partition.Caps, features);
        log?.WriteLine($"liber: {set.Count:N0} {(single ? "per-user histories" : "partitions")} ({set.Policy})");
        long partitionMs = clock.ElapsedMilliseconds;
        clock.Restart();

        InterestBackend b = backend();
        _backendName = b.Name;
        LearnResult learned;
        using (ResponseCache? cache = options.LlmCache is null ? null : new ResponseCache(options.LlmCache))
        {
            var learner = new InterestLearner(streams, b, options.Learn with { Mode = single ? LearnMode.TwoCall : options.Learn.Mode }, cache);
            learned = learner.RunAsync(set, Every<LearnProgress>(p => (p.Finished, p.Total), p => $"liber: interest texts {p.Finished:N0}/{p.Total:N0} ({p.LlmCalls:N0} LLM calls, {p.CacheHits:N0} cache hits, {p.Failures:N0} failures)")).GetAwaiter().GetResult();
        }

        long learnMs = clock.ElapsedMilliseconds;
        clock.Restart();
        Texts = learned.Texts;
        Partitions = set;
        LearnReport report = learned.Report;
        log?.WriteLine($"liber: texts by {report.Backend}: {report.Done:N0} done, {report.Failures:N0} failed, {report.LlmCalls:N0} LLM calls, {report.CacheHits:N0} cache hits, {report.PromptTokens:N0} prompt tokens");

        // Summaries and shifts in one encoder call (deduplicated and cached inside); a partition without text
        // (failed, or a user's first shift) becomes a zero vector, never a made-up one.
        int n = set.Count;
        var texts = new string[n * 2];
        for (int i = 0; i < n; i++)
        {
            Partition p = set.All[i];
            texts[i] = learned.Texts.Summary(p.User, p.Number) ?? "";
            texts[n + i] = single ? "" : learned.Texts.Shift(p.User, p.Number) ?? "";
        }

        EncodeResult encoded;
        using (KnowledgeEncoder encoder = KnowledgeEncoder.Create(options.Encoder, options.EmbeddingCache, new KnowledgeEncoderOptions { EmptyTexts = EmptyTextPolicy.ZeroVector }))
        {
            encoded = encoder.EncodeAsync(texts, Every<EncodeProgress>(p => (p.Done, p.Total), p => $"liber: encoded {p.Done:N0}/{p.Total:N0} texts ({p.Encoded:N0} by the model, the rest from the cache or empty)")).GetAwaiter().GetResult();
        }

        long encodeMs = clock.ElapsedMilliseconds;
        int d = encoded.Vectors.Dimension;
        float[] all = encoded.Vectors.Data.ToArray();
        log?.WriteLine($"liber: {encoded.Accounting.Texts:N0} texts encoded by {encoded.Accounting.Encoder} ({encoded.Accounting.CacheHits:N0} from cache, {encoded.Accounting.ModelCalls:N0} model calls, {encoded.Accounting.Seconds:F1} s)");
        Accounting = new Dictionary<string, long>
        {
            ["partitions"] = n,
            ["texts_done"] = report.Done,
            ["texts_failed"] = report.Failures,
            ["llm_calls"] = report.LlmCalls,
            ["llm_cache_hits"] = report.CacheHits,
            ["prompt_tokens"] = report.PromptTokens,
            ["completion_tokens"] = report.CompletionTokens,
            ["encoder_texts"] = encoded.Accounting.Texts,
            ["encoder_cache_hits"] = encoded.Accounting.CacheHits,
            ["encoder_calls"] = encoded.Accounting.ModelCalls,
            ["dimension"] = d,

            // Wall time of each stage in this run (a stage served from the caches is fast: compare encoder_cache_hits).
            ["partition_ms"] = partitionMs,
            ["uil_ms"] = learnMs,
            ["encode_ms"] = encodeMs,
        };

        if (single)
        {
            var perUser = new float[streams.UserCount * d];
            var present = new bool[streams.UserCount];
            for (int i = 0; i < n; i++)
            {
                Partition p = set.All[i];
                Array.Copy(all, (long)i * d, perUser, (long)p.User * d, d);
                present[p.User] = learned.Texts.Summary(p.User, p.Number) is not null;
            }

            return PartitionVectors.PerUser(streams.UserCount, perUser, d, present);
        }

        return PartitionVectors.FromPartitions(set, all[..(n * d)], all[(n * d)..], d);
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

    /// <summary>
    /// One pseudo-partition per user: the most recent events at or before the train cut-off (protocol order
    /// (timestamp, user, index) up to the last train sample) that fit the prompt-token and event caps.
    /// </summary>
    public static PartitionSet PerUserHistory(SampleSet samples, ItemFeatures features, PartitionCaps caps)
    {
        UserStreams s = samples.Streams;
        var byUser = new List<Partition>[s.UserCount];
        (long Ts, int User, int Index) cut = samples.TrainCount == 0 ? (long.MinValue, -1, -1) : samples[samples.TrainCount - 1] is var (cu, ci, crow) ? (s.Timestamps[crow], cu, ci) : default;
        for (int u = 0; u < s.UserCount; u++)
        {
            byUser[u] = [];
            int last = -1;
            for (int i = 0; i < s.Length(u); i++)
            {
                (long, int, int) key = (s.Timestamps[s.Row(u, i)], u, i);
                if (key.CompareTo(cut) <= 0)
                {
                    last = i;
                }
            }

            if (last < 0)
            {
                continue;
            }

            int first = last, tokens = features.Tokens(s.Items[s.Row(u, last)]);
            while (first > 0 && last - first + 1 < caps.MaxEvents && tokens + features.Tokens(s.Items[s.Row(u, first - 1)]) <= caps.MaxPromptTokens)
            {
                first--;
                tokens += features.Tokens(s.Items[s.Row(u, first)]);
            }

            var events = new PartitionEvent[last - first + 1];
            for (int i = first; i <= last; i++)
            {
                int row = s.Row(u, i);
                events[i - first] = new PartitionEvent(s.Positions[row], s.Items[row], s.Timestamps[row], s.Ratings[row]);
            }

            byUser[u].Add(new Partition(u, 0, first, last, events[0].Timestamp, events[^1].Timestamp, [.. events.Select(e => e.EventId)], tokens, Partition.Hash(events)));
        }

        return PartitionSet.FromUsers(byUser, new int[s.UserCount], $"single(history up to the train cut, max_events={caps.MaxEvents}, max_prompt_tokens={caps.MaxPromptTokens})");
    }
}
