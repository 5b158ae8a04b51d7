using System.ClientModel;
using System.Globalization;
using System.Text.Json;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Liber.Interests.Learning;

/// <summary>The run budget ran out; the partition is skipped and the run stops starting calls.</summary>
public sealed class BudgetExhaustedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BudgetExhaustedException()
        : base("run budget exhausted")
    {
    }

    /// <summary>Creates the exception.</summary>
    public BudgetExhaustedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public BudgetExhaustedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>The Polly pipeline around every LLM attempt, and the classification of faults.</summary>
internal static class Resilience
{
    /// <summary>Retry (exponential backoff with jitter, Retry-After honoured) around a circuit breaker around a per-attempt timeout.</summary>
    public static ResiliencePipeline Build(ResilienceOptions o, Func<CancellationToken> runToken, Action<string> onRetry)
    {
        var builder = new ResiliencePipelineBuilder();
        if (o.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is Exception e && IsRetriable(e, runToken())),
                MaxRetryAttempts = o.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = o.BaseDelay,
                MaxDelay = o.MaxDelay,
                DelayGenerator = args => ValueTask.FromResult(ServerDelay(args.Outcome.Exception, o.MaxDelay)),
                OnRetry = args =>
                {
                    onRetry(Classify(args.Outcome.Exception!));
                    return default;
                },
            });
        }

        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                // Only server and transport faults open the circuit; a bad answer says nothing about the server's health.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is Exception e && e is not InvalidAnswerException && IsRetriable(e, runToken())),
                FailureRatio = o.BreakerFailureRatio,
                MinimumThroughput = Math.Max(2, o.BreakerMinimumThroughput),
                SamplingDuration = o.BreakerSamplingDuration < TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(500) : o.BreakerSamplingDuration,
                BreakDuration = o.BreakDuration < TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(500) : o.BreakDuration,
            })
            .AddTimeout(o.RequestTimeout)
            .Build();
    }

    /// <summary>Whether a fault is worth another attempt (never the run's own cancellation or the budget).</summary>
    public static bool IsRetriable(Exception e, CancellationToken run) => e switch
    {
        _ when run.IsCancellationRequested => false,
        BudgetExhaustedException => false,
        ClientResultException c => c.Status is 0 or 408 or 409 or 425 or 429 or >= 500,
        InvalidAnswerException i => i.Retriable,
        TimeoutRejectedException or BrokenCircuitException => true,
        OperationCanceledException or HttpRequestException or IOException => true,
        JsonException or FormatException or InvalidOperationException or KeyNotFoundException => true,
        _ => false,
    };

    /// <summary>A short, stable reason for a fault (failure reports group by it).</summary>
    public static string Classify(Exception e) => e switch
    {
        BudgetExhaustedException => "budget exhausted",
        ClientResultException { Status: 0 } => "network",
        ClientResultException c => "http " + c.Status.ToString(CultureInfo.InvariantCulture),
        TimeoutRejectedException or OperationCanceledException => "timeout",
        BrokenCircuitException => "circuit open",
        InvalidAnswerException i => "invalid answer: " + i.Reason.Split(' ')[0] + (i.Reason.StartsWith("not", StringComparison.Ordinal) ? " JSON" : string.Empty),
        HttpRequestException or IOException => "network",
        JsonException or FormatException or InvalidOperationException or KeyNotFoundException => "malformed response",
        _ => e.GetType().Name,
    };

    /// <summary>The delay a server asked for (Retry-After on 429/503), or the circuit's remaining break; null for the default backoff.</summary>
    private static TimeSpan? ServerDelay(Exception? e, TimeSpan max)
    {
        if (e is BrokenCircuitException { RetryAfter: TimeSpan after })
        {
            return after < max ? after : max;
        }

        if (e is ClientResultException c && c.GetRawResponse() is { } response && response.Headers.TryGetValue("Retry-After", out string? value) && value is not null)
        {
            TimeSpan? d = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seconds) ? TimeSpan.FromSeconds(seconds)
                : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) ? when - DateTimeOffset.UtcNow
                : null;
            if (d is TimeSpan delay)
            {
                return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > max ? max : delay;
            }
        }

        return null;
    }
}
