using Liber.Core.Storage;
using Prometheus;

namespace Liber.Serve;

/// <summary>The service's Prometheus metrics, in a registry of its own (one per service instance).</summary>
public sealed class ServeMetrics
{
    /// <summary>Creates the metrics; the queue depth is read from <paramref name="queue"/> at every scrape.</summary>
    public ServeMetrics(IInterestJobQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        Registry = Metrics.NewCustomRegistry();
        MetricFactory f = Metrics.WithCustomRegistry(Registry);
        EventsApplied = f.CreateCounter("liber_events_applied_total", "Events applied to the UBSP store.");
        EventsDuplicate = f.CreateCounter("liber_events_duplicate_total", "Events already applied (same event id): no-ops.");
        EventsConflict = f.CreateCounter("liber_events_conflict_total", "Events whose id was already applied with other content: not applied.");
        EventsRejected = f.CreateCounter("liber_events_rejected_total", "Events rejected by the store (late events).");
        PartitionsClosed = f.CreateCounter("liber_partitions_closed_total", "Long-term partitions closed.");
        LlmCalls = f.CreateCounter("liber_llm_calls_total", "UIL backend calls (retries included; cache hits excluded).");
        LlmCacheHits = f.CreateCounter("liber_llm_cache_hits_total", "UIL answers served from the response cache.");
        EncoderCalls = f.CreateCounter("liber_encoder_calls_total", "Knowledge encoder model calls (cache hits excluded).");
        JobsDone = f.CreateCounter("liber_interest_jobs_done_total", "Partitions whose interest texts and vectors were stored.");
        JobAttemptsFailed = f.CreateCounter("liber_interest_job_failures_total", "Failed partition attempts (retried or given up).");
        QueueDepth = f.CreateGauge("liber_interest_queue_depth", "Pending interest jobs (closed partitions awaiting UIL and encoding).");
        RequestDuration = f.CreateHistogram("liber_http_request_duration_seconds", "HTTP request latency by endpoint and status code.",
            new HistogramConfiguration { LabelNames = ["endpoint", "code"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
        Registry.AddBeforeCollectCallback(() => QueueDepth.Set(queue.PendingJobs()));
    }

    /// <summary>The registry /metrics exports.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Events applied.</summary>
    public Counter EventsApplied { get; }

    /// <summary>Duplicate events.</summary>
    public Counter EventsDuplicate { get; }

    /// <summary>Events whose id was already applied with other content.</summary>
    public Counter EventsConflict { get; }

    /// <summary>Rejected events.</summary>
    public Counter EventsRejected { get; }

    /// <summary>Partitions closed.</summary>
    public Counter PartitionsClosed { get; }

    /// <summary>LLM calls.</summary>
    public Counter LlmCalls { get; }

    /// <summary>LLM cache hits.</summary>
    public Counter LlmCacheHits { get; }

    /// <summary>Encoder model calls.</summary>
    public Counter EncoderCalls { get; }

    /// <summary>Jobs done.</summary>
    public Counter JobsDone { get; }

    /// <summary>Failed job attempts.</summary>
    public Counter JobAttemptsFailed { get; }

    /// <summary>Pending jobs.</summary>
    public Gauge QueueDepth { get; }

    /// <summary>Request latencies.</summary>
    public Histogram RequestDuration { get; }
}
