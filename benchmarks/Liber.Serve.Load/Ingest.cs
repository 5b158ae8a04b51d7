using System.Diagnostics;
using System.Text.Json;

namespace Liber.Serve.Load;

/// <summary>Options of the ingest workload.</summary>
internal sealed record IngestSettings(Uri Url, string? ApiKey, long Events, int Batch, int Concurrency, int Users, int Items, string Tag, long IdBase, TimeSpan Timeout);

/// <summary>What the ingest workload measured.</summary>
internal sealed record IngestResult(
    string Mode, long EventsSent, long Applied, long Duplicates, long Rejected, long ClosedPartitions, long Requests, long Errors,
    IReadOnlyDictionary<string, int> ErrorsByKind, double Seconds, double EventsPerSecond, Percentiles Latency);

/// <summary>
/// Synthetic events in batches from <c>Concurrency</c> closed-loop workers. Each user belongs to one worker, which sends
/// its batches one after the other, so every user's events arrive in timestamp order; event ids are unique per run.
/// </summary>
internal static class Ingest
{
    public const long BaseTimestamp = 1_700_000_000;

    public static async Task<IngestResult> RunAsync(IngestSettings s, TextWriter log, CancellationToken ct)
    {
        int workers = (int)Math.Min(Math.Min(s.Concurrency, s.Users), Math.Max(1, s.Events));
        using var client = new LoadClient(s.Url, s.ApiKey, workers, s.Timeout);
        var stats = new Stats();
        long nextId = s.IdBase, applied = 0, duplicates = 0, rejected = 0, closed = 0, sent = 0;
        log.WriteLine($"ingest: {s.Events:N0} events in batches of {s.Batch} from {workers} workers over {s.Users:N0} users to {s.Url}");
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(
            async () =>
            {
                int[] owned = [.. Enumerable.Range(0, s.Users).Where(u => u % workers == w)];
                var seq = new long[owned.Length];
                var rng = new Random(w + 1);
                long remaining = (s.Events / workers) + (w < s.Events % workers ? 1 : 0);
                int turn = 0;
                var rows = new List<EventRow>(s.Batch);
                while (remaining > 0 && !ct.IsCancellationRequested)
                {
                    int n = (int)Math.Min(s.Batch, remaining);
                    rows.Clear();
                    for (int j = 0; j < n; j++)
                    {
                        int k = turn++ % owned.Length;
                        rows.Add(new EventRow(
                            Interlocked.Increment(ref nextId), UserId(s.Tag, owned[k]), Payloads.ItemId(rng.Next(s.Items)),
                            BaseTimestamp + (seq[k]++ * 10), rng.Next(1, 6)));
                    }

                    Reply reply = await client.PostAsync("v1/events", Payloads.Events(rows), ct).ConfigureAwait(false);
                    remaining -= n;
                    Interlocked.Add(ref sent, n);
                    long a = 0, d = 0, r = 0, c = 0;
                    string? problem = reply.Problem(root =>
                    {
                        a = root.GetProperty("applied").GetInt64();
                        d = root.GetProperty("duplicates").GetInt64();
                        r = root.GetProperty("rejected").GetArrayLength();
                        c = root.GetProperty("closed_partitions").GetArrayLength();
                        return a + d + r == n ? null : $"bad body: applied+duplicates+rejected != {n}";
                    });
                    if (problem is null)
                    {
                        stats.Success(reply.Milliseconds);
                        Interlocked.Add(ref applied, a);
                        Interlocked.Add(ref duplicates, d);
                        Interlocked.Add(ref rejected, r);
                        Interlocked.Add(ref closed, c);
                    }
                    else
                    {
                        stats.Failure(problem, reply.Milliseconds);
                    }
                }
            },
            ct))).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;
        return new IngestResult(
            "ingest", sent, applied, duplicates, rejected, closed, stats.Ok + stats.Errors, stats.Errors, stats.ErrorsByKind,
            seconds, (applied + duplicates) / seconds, stats.Summarise());
    }

    public static string UserId(string tag, int k) => $"load-{tag}-u{k}";
}

/// <summary>The JSON shape of the results.</summary>
internal static class ResultJson
{
    public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
}
