using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Interests.Learning;
using Liber.Store;

namespace Liber.Serve;

/// <summary>Everything <c>liber serve</c> needs: store, policy, UIL backend, encoder, checkpoint, listening address, security and limits.</summary>
public sealed record ServeOptions
{
    /// <summary>The SQLite UBSP store file (created when missing).</summary>
    public required string StorePath { get; init; }

    /// <summary>UBSP policy and caps (fixed over the store's life).</summary>
    public PartitionOptions Partition { get; init; } = new();

    /// <summary>Store options (durability, late events, checkpoints).</summary>
    public SqliteStoreOptions Store { get; init; } = new();

    /// <summary>Checkpoint folder (<c>liber train --checkpoint</c>) for <c>/v1/rank</c>, or null (rank answers 503).</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Creates the UIL backend (template by default).</summary>
    public Func<InterestBackend> Backend { get; init; } = InterestBackend.Template;

    /// <summary>UIL options (mode, domain, in-flight requests, retries, budget per worker round).</summary>
    public LearnOptions Learn { get; init; } = new() { Domain = "generic" };

    /// <summary>UIL response cache (SQLite); null: <c>STORE.llm-cache.db</c> next to the store.</summary>
    public string? LlmCache { get; init; }

    /// <summary>Knowledge encoder name (minilm, arctic-xs, openai).</summary>
    public string Encoder { get; init; } = "minilm";

    /// <summary>Embedding cache (SQLite); null: <c>STORE.embeddings.db</c> next to the store.</summary>
    public string? EmbeddingCache { get; init; }

    /// <summary>Listening URLs, e.g. http://127.0.0.1:5080 (port 0 picks a free port).</summary>
    public string Urls { get; init; } = "http://127.0.0.1:5080";

    /// <summary>Serve every endpoint without an API key (local experiments only).</summary>
    public bool InsecureNoAuth { get; init; }

    /// <summary>The API key granting every <c>/v1</c> route; null reads <c>LIBER_API_KEY</c> from the environment.</summary>
    public string? ApiKey { get; init; }

    /// <summary>An optional key granting the read routes only (interests, rank, metrics); null reads <c>LIBER_READ_API_KEY</c> from the environment.</summary>
    public string? ReadApiKey { get; init; }

    /// <summary>Serve <c>/metrics</c> without a key (for a scraper that cannot send <c>X-Api-Key</c>); by default it needs the read or full key.</summary>
    public bool MetricsNoAuth { get; init; }

    /// <summary>The rating scale events must be on (<c>--rating-scale MIN:MAX[:STEP]</c>); null: the seed's, else whole stars 1-5.</summary>
    public RatingScale? RatingScale { get; init; }

    /// <summary>Events per <c>/v1/events</c> request at most.</summary>
    public int MaxBatchEvents { get; init; } = 10_000;

    /// <summary>Items per <c>/v1/items</c> request at most.</summary>
    public int MaxBatchItems { get; init; } = 10_000;

    /// <summary>Request body bytes at most.</summary>
    public long MaxBodyBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Candidates per <c>/v1/rank</c> request at most.</summary>
    public int MaxCandidates { get; init; } = 1_000;

    /// <summary>A data set whose item catalog, user profiles and rating scale seed the service (items are upserted at start), or null.</summary>
    public Dataset? Seed { get; init; }

    /// <summary>Nearline worker options.</summary>
    public NearlineOptions Nearline { get; init; } = new();

    /// <summary>The rating scale in force: events off it are refused, and interest prompts use it. <see cref="RatingScale"/> if set, else the seed's, else whole stars 1-5.</summary>
    public RatingScale Scale => RatingScale ?? Seed?.Scale ?? Liber.Core.Data.RatingScale.FiveStars;

    /// <summary>The LLM cache path in use.</summary>
    public string LlmCachePath => LlmCache ?? StorePath + ".llm-cache.db";

    /// <summary>The embedding cache path in use.</summary>
    public string EmbeddingCachePath => EmbeddingCache ?? StorePath + ".embeddings.db";

    /// <summary>Checks the options.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(StorePath);
        if (MaxBatchEvents < 1 || MaxBatchItems < 1 || MaxCandidates < 1 || MaxBodyBytes < 1024)
        {
            throw new ArgumentException($"limits must be positive (events {MaxBatchEvents}, items {MaxBatchItems}, candidates {MaxCandidates}) and the body limit at least 1024 bytes (got {MaxBodyBytes})");
        }

        if (RatingScale is { } s && !(s.Min < s.Max && float.IsFinite(s.Min) && float.IsFinite(s.Max) && s.Step is null or > 0))
        {
            throw new ArgumentException($"--rating-scale: need MIN < MAX and a positive step (got {s.Min}:{s.Max}:{s.Step})");
        }

        Nearline.Validate();
    }
}

/// <summary>Options of the nearline worker.</summary>
public sealed record NearlineOptions
{
    /// <summary>Run the worker (tests of ingest alone may turn it off).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Attempts of a partition before it is marked failed.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Delay before the first retry; doubled per attempt.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest delay between retries.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the worker looks for due jobs when nothing wakes it.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Users per worker round (their UIL calls run concurrently, up to the learner's in-flight limit).</summary>
    public int UsersPerRound { get; init; } = 32;

    /// <summary>Partitions of one user per round at most.</summary>
    public int PartitionsPerUser { get; init; } = 64;

    /// <summary>How long a lease holds before another round may take the jobs again.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Checks the options.</summary>
    public void Validate()
    {
        if (MaxAttempts < 1 || UsersPerRound < 1 || PartitionsPerUser < 1 || PollInterval <= TimeSpan.Zero || RetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentException("nearline: attempts, users per round and partitions per user must be >= 1, the poll interval positive and the retry delay not negative");
        }
    }
}
