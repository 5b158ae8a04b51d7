namespace Liber.Interests.Learning;

/// <summary>Accounting of one UIL run.</summary>
public sealed record LearnReport
{
    /// <summary>Backend that wrote the texts (template, openai, llama).</summary>
    public required string Backend { get; init; }

    /// <summary>Model name (template writer version for the template backend).</summary>
    public required string Model { get; init; }

    /// <summary>Prompt template (or template writer) version.</summary>
    public required string TemplateVersion { get; init; }

    /// <summary>two-call or one-call.</summary>
    public required string Mode { get; init; }

    /// <summary>Closed partitions.</summary>
    public int Partitions { get; init; }

    /// <summary>Partitions done.</summary>
    public int Done { get; init; }

    /// <summary>Partitions failed (after retries).</summary>
    public int Failures { get; init; }

    /// <summary>Partitions skipped (budget, stop, or an earlier partition of the user failed).</summary>
    public int Skipped { get; init; }

    /// <summary>LLM calls made (every attempt, retries included).</summary>
    public long LlmCalls { get; init; }

    /// <summary>Answers served from the cache.</summary>
    public long CacheHits { get; init; }

    /// <summary>Retries made.</summary>
    public long Retries { get; init; }

    /// <summary>Failed and skipped partitions by reason.</summary>
    public required IReadOnlyDictionary<string, int> FailuresByReason { get; init; }

    /// <summary>Faults met by attempts (each retried or final), by reason.</summary>
    public required IReadOnlyDictionary<string, long> AttemptErrors { get; init; }

    /// <summary>Prompt tokens of the calls made (server usage, else counted with cl100k_base).</summary>
    public long PromptTokens { get; init; }

    /// <summary>Completion tokens of the calls made.</summary>
    public long CompletionTokens { get; init; }

    /// <summary>Whether the run budget stopped the run.</summary>
    public bool BudgetExhausted { get; init; }

    /// <summary>Wall time in seconds.</summary>
    public double Seconds { get; init; }
}

/// <summary>Progress of a run, reported after each partition.</summary>
/// <param name="Finished">Partitions finished (done, failed or skipped).</param>
/// <param name="Total">Partitions in the run.</param>
/// <param name="LlmCalls">LLM calls so far.</param>
/// <param name="CacheHits">Cache hits so far.</param>
/// <param name="Failures">Partitions failed so far.</param>
public readonly record struct LearnProgress(int Finished, int Total, long LlmCalls, long CacheHits, int Failures);

/// <summary>The outcome of a run: the texts and the accounting.</summary>
/// <param name="Texts">Interest texts, aligned with the partition set.</param>
/// <param name="Report">Accounting.</param>
public sealed record LearnResult(InterestTexts Texts, LearnReport Report);
