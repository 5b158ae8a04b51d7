using System.Diagnostics;

namespace Liber.Serve.Load;

/// <summary>Options of the rank workload.</summary>
internal sealed record RankSettings(
    Uri Url, string? ApiKey, int Users, int History, int Candidates, double Rate, double Seconds, int Items, bool SeedItems,
    int Warmup, int Concurrency, string Tag, long IdBase, TimeSpan Timeout);

/// <summary>What the rank workload measured.</summary>
internal sealed record RankResult(
    string Mode, double SeedSeconds, long SeedEvents, int Scheduled, long Completed, long Errors, IReadOnlyDictionary<string, int> ErrorsByKind,
    double TargetRate, double AchievedRate, double MaxDispatchLagMs, Percentiles Latency, Percentiles ServiceTime);

/// <summary>
/// Seeds users with long histories (and the item catalog), then sends /v1/rank on an open-loop constant-rate
/// schedule: request i is due at t0 + i / rate whatever happened to the earlier ones, and its latency is measured from
/// that due time, so a stall of the service shows up in every request it delayed (no coordinated omission).
/// </summary>
internal static class Rank
{
    private const int SeedChunk = 5_000;

    public static async Task<RankResult> RunAsync(RankSettings s, TextWriter log, CancellationToken ct)
    {
        int scheduled = (int)Math.Round(s.Rate * s.Seconds);
        // Open loop: enough connections that a slow reply never holds back the schedule.
        using var client = new LoadClient(s.Url, s.ApiKey, Math.Max(64, s.Concurrency), s.Timeout);
        var seedClock = Stopwatch.StartNew();
        long seedEvents = await SeedAsync(client, s, log, ct).ConfigureAwait(false);
        double seedSeconds = seedClock.Elapsed.TotalSeconds;

        var rng = new Random(17);
        int[] pool = [.. Enumerable.Range(0, s.Items)];
        byte[] Body(int i)
        {
            // A distinct random sample of the items (partial Fisher-Yates).
            int n = Math.Min(s.Candidates, pool.Length);
            for (int j = 0; j < n; j++)
            {
                int k = rng.Next(j, pool.Length);
                (pool[j], pool[k]) = (pool[k], pool[j]);
            }

            return Payloads.Rank(UserId(s.Tag, i % s.Users), pool.Take(n).Select(Payloads.ItemId));
        }

        byte[][] bodies = [.. Enumerable.Range(0, scheduled).Select(Body)];
        int expected = Math.Min(s.Candidates, s.Items);
        string? Check(System.Text.Json.JsonElement root) =>
            root.GetProperty("scores").GetArrayLength() == expected ? null : $"bad body: scores != {expected}";

        for (int i = 0; i < s.Warmup; i++)
        {
            Reply r = await client.PostAsync("v1/rank", bodies[i % bodies.Length], ct).ConfigureAwait(false);
            if (r.Problem(Check) is string p)
            {
                log.WriteLine($"rank: warmup request {i} failed: {p} {System.Text.Encoding.UTF8.GetString(r.Body.AsSpan(0, Math.Min(300, r.Body.Length)))}");
            }
        }

        log.WriteLine($"rank: {scheduled:N0} requests at {s.Rate}/s for {s.Seconds} s ({expected} candidates, {s.Users} users)");
        var latency = new Stats();
        var service = new Stats();
        var tasks = new Task[scheduled];
        double maxLag = 0;
        var clock = Stopwatch.StartNew();
        var dispatcher = new Thread(() =>
        {
            for (int i = 0; i < scheduled && !ct.IsCancellationRequested; i++)
            {
                double due = i * 1000.0 / s.Rate;
                double wait = due - clock.Elapsed.TotalMilliseconds;
                if (wait > 2)
                {
                    Thread.Sleep(TimeSpan.FromMilliseconds(wait - 1.5));
                }

                while (clock.Elapsed.TotalMilliseconds < due)
                {
                    Thread.SpinWait(20);
                }

                maxLag = Math.Max(maxLag, clock.Elapsed.TotalMilliseconds - due);
                tasks[i] = SendAsync(i, due);
            }
        })
        { IsBackground = true, Name = "rank schedule", Priority = ThreadPriority.AboveNormal };
        dispatcher.Start();
        dispatcher.Join();
        await Task.WhenAll(tasks.Where(t => t is not null)).ConfigureAwait(false);
        double elapsed = clock.Elapsed.TotalSeconds;

        return new RankResult(
            "rank", seedSeconds, seedEvents, scheduled, latency.Ok, latency.Errors, latency.ErrorsByKind, s.Rate, latency.Ok / elapsed, maxLag,
            latency.Summarise(), service.Summarise());

        async Task SendAsync(int i, double due)
        {
            Reply r = await client.PostAsync("v1/rank", bodies[i], ct).ConfigureAwait(false);
            double fromSchedule = clock.Elapsed.TotalMilliseconds - due;
            if (r.Problem(Check) is string p)
            {
                latency.Failure(p, fromSchedule);
                service.Failure(p, r.Milliseconds);
            }
            else
            {
                latency.Success(fromSchedule);
                service.Success(r.Milliseconds);
            }
        }
    }

    public static string UserId(string tag, int k) => $"rank-{tag}-u{k}";

    /// <summary>Items (when asked) then every user's history, users in parallel, each user's chunks in order.</summary>
    private static async Task<long> SeedAsync(LoadClient client, RankSettings s, TextWriter log, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var rng = new Random(5);
        if (s.SeedItems)
        {
            for (int from = 0; from < s.Items; from += 500)
            {
                Reply r = await client.PostAsync("v1/items", Payloads.Items(from, Math.Min(500, s.Items - from), rng), ct).ConfigureAwait(false);
                Require(r, "items");
            }
        }

        long nextId = s.IdBase, events = 0;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, s.Users),
            new ParallelOptions { MaxDegreeOfParallelism = s.Concurrency, CancellationToken = ct },
            async (u, token) =>
            {
                var r = new Random(1000 + u);
                for (int from = 0; from < s.History; from += SeedChunk)
                {
                    int n = Math.Min(SeedChunk, s.History - from);
                    var rows = new List<EventRow>(n);
                    for (int j = 0; j < n; j++)
                    {
                        rows.Add(new EventRow(Interlocked.Increment(ref nextId), UserId(s.Tag, u), Payloads.ItemId(r.Next(s.Items)), Ingest.BaseTimestamp + ((from + j) * 60L), r.Next(1, 6)));
                    }

                    Require(await client.PostAsync("v1/events", Payloads.Events(rows), token).ConfigureAwait(false), "events");
                    Interlocked.Add(ref events, n);
                }
            }).ConfigureAwait(false);
        log.WriteLine($"rank: seeded {(s.SeedItems ? s.Items : 0):N0} items and {events:N0} events ({s.Users} users x {s.History}) in {sw.Elapsed.TotalSeconds:F1} s");
        return events;
    }

    private static void Require(Reply r, string what)
    {
        if (r.Problem() is string p)
        {
            throw new InvalidOperationException($"seeding {what} failed: {p} {System.Text.Encoding.UTF8.GetString(r.Body.AsSpan(0, Math.Min(500, r.Body.Length)))}");
        }
    }
}
