using System.Collections.Concurrent;
using System.Globalization;

namespace Liber.Serve.Load;

/// <summary>Latencies (milliseconds) and failures of one phase; thread-safe.</summary>
internal sealed class Stats
{
    private readonly ConcurrentQueue<double> _latencies = new();
    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
    private long _ok;

    public long Ok => Interlocked.Read(ref _ok);

    public int Errors => _errors.Values.Sum();

    public IReadOnlyDictionary<string, int> ErrorsByKind => new SortedDictionary<string, int>(_errors, StringComparer.Ordinal);

    public void Success(double ms)
    {
        Interlocked.Increment(ref _ok);
        _latencies.Enqueue(ms);
    }

    /// <summary>A failed request: its kind ("status 503", "timeout", "bad body: ...") is counted; its latency is kept too.</summary>
    public void Failure(string kind, double ms)
    {
        _errors.AddOrUpdate(kind, 1, (_, n) => n + 1);
        _latencies.Enqueue(ms);
    }

    public Percentiles Summarise() => Percentiles.Of([.. _latencies]);
}

/// <summary>Nearest-rank percentiles of a set of latencies (milliseconds).</summary>
internal sealed record Percentiles(int Count, double P50, double P90, double P99, double P999, double Max, double Mean)
{
    public static Percentiles Of(double[] ms)
    {
        if (ms.Length == 0)
        {
            return new Percentiles(0, 0, 0, 0, 0, 0, 0);
        }

        Array.Sort(ms);
        double At(double q) => ms[Math.Clamp((int)Math.Ceiling(q * ms.Length) - 1, 0, ms.Length - 1)];
        return new Percentiles(ms.Length, At(0.5), At(0.9), At(0.99), At(0.999), ms[^1], ms.Average());
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"p50 {P50:F2} ms, p90 {P90:F2} ms, p99 {P99:F2} ms, p99.9 {P999:F2} ms, max {Max:F2} ms (n={Count})");
}
