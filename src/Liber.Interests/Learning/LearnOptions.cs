using System.Globalization;

namespace Liber.Interests.Learning;

/// <summary>How many calls a partition takes.</summary>
public enum LearnMode
{
    /// <summary>Summary, then shift: two calls per partition (one for a user's first), as in the paper. The default.</summary>
    TwoCall,

    /// <summary>One call answering a JSON object with both texts, validated against a schema: half the calls.</summary>
    OneCall,
}

/// <summary>Sampling parameters sent with every request (all part of the cache key).</summary>
public sealed record SamplingOptions
{
    /// <summary>Temperature (0: greedy, reproducible).</summary>
    public float Temperature { get; init; }

    /// <summary>Maximum output tokens per answer.</summary>
    public int MaxOutputTokens { get; init; } = 400;

    /// <summary>Seed, for servers that honour it (null: none sent).</summary>
    public long? Seed { get; init; } = 42;

    /// <summary>Ask for a JSON response format in one-call mode (switch off for servers that reject it).</summary>
    public bool JsonResponseFormat { get; init; } = true;

    /// <summary>The canonical text of the parameters, as hashed into the cache key.</summary>
    public string Describe(bool json) => string.Create(CultureInfo.InvariantCulture,
        $"temperature={Temperature:R};max_output_tokens={MaxOutputTokens};seed={(Seed is long s ? s.ToString(CultureInfo.InvariantCulture) : "none")};json={(json && JsonResponseFormat ? "object" : "none")}");
}

/// <summary>Retry, timeout and circuit-breaker settings of the runner (Polly).</summary>
public sealed record ResilienceOptions
{
    /// <summary>Retries after the first attempt (timeouts, 429, 5xx, network and malformed or invalid answers).</summary>
    public int MaxRetries { get; init; } = 6;

    /// <summary>First backoff delay; doubles per retry, with jitter.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between attempts (also caps a server's Retry-After).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout of one attempt.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Circuit breaker: failure ratio over the sampling window that opens the circuit.</summary>
    public double BreakerFailureRatio { get; init; } = 0.8;

    /// <summary>Circuit breaker: attempts in the window before it may open.</summary>
    public int BreakerMinimumThroughput { get; init; } = 50;

    /// <summary>Circuit breaker: sampling window.</summary>
    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Circuit breaker: how long it stays open.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Settings with tiny delays, for tests and benchmarks against a local stub.</summary>
    public static ResilienceOptions Fast { get; } = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(50),
        RequestTimeout = TimeSpan.FromSeconds(5),
        BreakDuration = TimeSpan.FromMilliseconds(50),
        BreakerSamplingDuration = TimeSpan.FromSeconds(1),
    };
}

/// <summary>Options of a UIL run.</summary>
public sealed record LearnOptions
{
    /// <summary>two-call (default, as the paper) or one-call.</summary>
    public LearnMode Mode { get; init; } = LearnMode.TwoCall;

    /// <summary>Prompt domain: movies, music or generic.</summary>
    public string Domain { get; init; } = "movies";

    /// <summary>The template backend's wording (<see cref="Template.TemplateInterestWriter.Versions"/>; default the first, template-v1, kept for reproducibility). Part of every cached text's key.</summary>
    public string TemplateVersion { get; init; } = Template.TemplateInterestWriter.Version;

    /// <summary>Length caps and word limits of the prompts (part of the prompt text, hence of the cache key).</summary>
    public Prompts.PromptLimits Limits { get; init; } = new();

    /// <summary>Requests in flight at most (one per user at a time: the cascade is sequential within a user).</summary>
    public int MaxInFlight { get; init; } = 16;

    /// <summary>Sampling parameters.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Retries, timeouts and circuit breaker.</summary>
    public ResilienceOptions Resilience { get; init; } = new();

    /// <summary>Run budget: LLM calls (attempts) at most; null for none. When spent the run stops cleanly.</summary>
    public long? MaxCalls { get; init; }

    /// <summary>Run budget: prompt plus completion tokens at most; null for none.</summary>
    public long? MaxTokens { get; init; }

    /// <summary>Invalid answers accepted per request before it is recorded failed (at temperature 0 a model tends to repeat itself).</summary>
    public int MaxInvalidAnswers { get; init; } = 3;

    /// <summary>Characters an answer text may have at most (longer answers are invalid).</summary>
    public int MaxAnswerChars { get; init; } = 6000;

    /// <summary>Validates the options.</summary>
    public void Validate()
    {
        if (!Template.TemplateInterestWriter.Versions.Contains(TemplateVersion))
        {
            throw new ArgumentException($"template writer version '{TemplateVersion}' is not one of {string.Join(", ", Template.TemplateInterestWriter.Versions)}");
        }

        if (MaxInFlight < 1)
        {
            throw new ArgumentException($"max in flight must be at least 1 (got {MaxInFlight})");
        }

        if (Sampling.MaxOutputTokens < 1 || Sampling.Temperature < 0)
        {
            throw new ArgumentException("max output tokens must be at least 1 and temperature not negative");
        }

        if (Resilience.MaxRetries < 0 || Resilience.RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("retries must not be negative and the request timeout must be positive");
        }

        if (MaxCalls < 0 || MaxTokens < 0)
        {
            throw new ArgumentException("budgets must not be negative");
        }
    }
}
