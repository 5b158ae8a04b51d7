using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Liber.Serve.Load;

/// <summary>The verbs: ingest, rank, selftest. Exit code 0 when every request succeeded, 1 otherwise.</summary>
internal static class Commands
{
    private static readonly Option<Uri> Url = new("--url") { Description = "base URL of liber serve", DefaultValueFactory = _ => new Uri("http://127.0.0.1:5080/") };
    private static readonly Option<string?> ApiKey = new("--api-key") { Description = "X-Api-Key for the write endpoints (default: $LIBER_API_KEY)" };
    private static readonly Option<bool> Json = new("--json") { Description = "print one JSON object instead of text" };
    private static readonly Option<string?> Tag = new("--tag") { Description = "user id tag, so runs against the same store use fresh users (default: from the clock)" };
    private static readonly Option<int> Items = new("--items") { Description = "item ids are \"1\"..\"n\" (MovieLens external ids)", DefaultValueFactory = _ => 1682 };
    private static readonly Option<double> Timeout = new("--timeout") { Description = "per-request timeout in seconds", DefaultValueFactory = _ => 30 };

    public static Command Ingest()
    {
        var events = new Option<long>("--events") { Description = "events to send", DefaultValueFactory = _ => 100_000 };
        var batch = new Option<int>("--batch") { Description = "events per request", DefaultValueFactory = _ => 100 };
        var concurrency = new Option<int>("--concurrency") { Description = "closed-loop workers (each owns a share of the users)", DefaultValueFactory = _ => 8 };
        var users = new Option<int>("--users") { Description = "distinct users", DefaultValueFactory = _ => 1000 };
        var cmd = new Command("ingest", "POST /v1/events throughput: synthetic events, unique ids, increasing timestamps per user");
        foreach (Option o in new Option[] { Url, ApiKey, events, batch, concurrency, users, Items, Tag, Timeout, Json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (r, ct) =>
        {
            var s = new IngestSettings(
                r.GetValue(Url)!, Key(r), Positive(r.GetValue(events), "--events"), Positive(r.GetValue(batch), "--batch"),
                Positive(r.GetValue(concurrency), "--concurrency"), Positive(r.GetValue(users), "--users"), Positive(r.GetValue(Items), "--items"),
                TagOf(r), IdBase(), TimeSpan.FromSeconds(r.GetValue(Timeout)));
            IngestResult result = await Load.Ingest.RunAsync(s, r.GetValue(Json) ? TextWriter.Null : Console.Out, ct).ConfigureAwait(false);
            Print(result, r.GetValue(Json), Text(result));
            return result.Errors == 0 ? 0 : 1;
        });
        return cmd;
    }

    public static Command Rank()
    {
        var users = new Option<int>("--users") { Description = "users seeded and ranked for", DefaultValueFactory = _ => 50 };
        var history = new Option<int>("--history") { Description = "events seeded per user", DefaultValueFactory = _ => 1000 };
        var candidates = new Option<int>("--candidates") { Description = "candidates per request", DefaultValueFactory = _ => 100 };
        var rate = new Option<double>("--rate") { Description = "requests per second (open loop)", DefaultValueFactory = _ => 200 };
        var seconds = new Option<double>("--seconds") { Description = "length of the schedule", DefaultValueFactory = _ => 30 };
        var noItems = new Option<bool>("--no-seed-items") { Description = "do not POST /v1/items (keep the checkpoint's item metadata)" };
        var warmup = new Option<int>("--warmup") { Description = "unmeasured requests before the schedule", DefaultValueFactory = _ => 50 };
        var concurrency = new Option<int>("--concurrency") { Description = "parallel seeding requests", DefaultValueFactory = _ => 4 };
        var cmd = new Command("rank", "seed users with long histories, then POST /v1/rank at a constant rate (open loop, latency from the scheduled send time)");
        foreach (Option o in new Option[] { Url, ApiKey, users, history, candidates, rate, seconds, Items, noItems, warmup, concurrency, Tag, Timeout, Json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (r, ct) =>
        {
            var s = new RankSettings(
                r.GetValue(Url)!, Key(r), Positive(r.GetValue(users), "--users"), r.GetValue(history), Positive(r.GetValue(candidates), "--candidates"),
                r.GetValue(rate) > 0 ? r.GetValue(rate) : throw new ArgumentException("--rate must be > 0"), r.GetValue(seconds),
                Positive(r.GetValue(Items), "--items"), !r.GetValue(noItems), r.GetValue(warmup), Positive(r.GetValue(concurrency), "--concurrency"),
                TagOf(r), IdBase(), TimeSpan.FromSeconds(r.GetValue(Timeout)));
            RankResult result = await Load.Rank.RunAsync(s, r.GetValue(Json) ? TextWriter.Null : Console.Out, ct).ConfigureAwait(false);
            Print(result, r.GetValue(Json), Text(result));
            return result.Errors == 0 ? 0 : 1;
        });
        return cmd;
    }

    public static Command SelfTest()
    {
        var cmd = new Command("selftest", "run both workloads briefly against an in-process fake service (checks the generator, measures nothing about liber)");
        cmd.SetAction(async (r, ct) =>
        {
            using var fake = new FakeService("selftest-key");
            var ingest = await Load.Ingest.RunAsync(new IngestSettings(fake.Url, "selftest-key", 20_000, 100, 4, 200, 1682, "self", 1_000_000, TimeSpan.FromSeconds(10)), Console.Out, ct).ConfigureAwait(false);
            Console.WriteLine(Text(ingest));
            var rank = await Load.Rank.RunAsync(new RankSettings(fake.Url, "selftest-key", 5, 200, 100, 200, 3, 1682, true, 20, 4, "self", 2_000_000, TimeSpan.FromSeconds(10)), Console.Out, ct).ConfigureAwait(false);
            Console.WriteLine(Text(rank));
            using var wrong = new LoadClient(fake.Url, "wrong-key", 1, TimeSpan.FromSeconds(5));
            Reply denied = await wrong.PostAsync("v1/items", Payloads.Items(0, 1, new Random(1)), ct).ConfigureAwait(false);
            var checks = new (string What, bool Ok)[]
            {
                ("ingest: no errors", ingest.Errors == 0),
                ("ingest: the fake saw every event id once", ingest.Applied == 20_000 && ingest.Duplicates == 0),
                ("ingest+seed: no per-user timestamp regression", fake.OutOfOrder == 0),
                ("rank: no errors", rank.Errors == 0),
                ("rank: every scheduled request completed", rank.Completed == rank.Scheduled),
                ("rank: fake saw warmup + scheduled calls", fake.RankCalls == rank.Scheduled + 20),
                ("rank: achieved rate within 5% of the target", Math.Abs(rank.AchievedRate - 200) <= 10),
                ("wrong API key is refused with 401", denied.Status == 401),
            };
            foreach ((string what, bool ok) in checks)
            {
                Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
            }

            return checks.All(c => c.Ok) ? 0 : 1;
        });
        return cmd;
    }

    private static string? Key(ParseResult r) => r.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("LIBER_API_KEY");

    private static string TagOf(ParseResult r) => r.GetValue(Tag) ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Event ids of this run start here: milliseconds since the epoch times 10^6, unique across runs.</summary>
    private static long IdBase() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    private static T Positive<T>(T value, string name)
        where T : System.Numerics.INumber<T> => value > T.Zero ? value : throw new ArgumentException($"{name} must be > 0, got {value}");

    private static void Print<T>(T result, bool json, string text) => Console.WriteLine(json ? JsonSerializer.Serialize(result, ResultJson.Options) : text);

    private static string Text(IngestResult r) => string.Create(
        CultureInfo.InvariantCulture,
        $"ingest: {r.EventsSent:N0} events in {r.Requests:N0} requests, {r.Seconds:F2} s: {r.EventsPerSecond:N0} events/s acknowledged; applied {r.Applied:N0}, duplicates {r.Duplicates:N0}, rejected {r.Rejected:N0}, closed partitions {r.ClosedPartitions:N0}; errors {r.Errors}{Errors(r.ErrorsByKind)}\n  request latency {r.Latency}");

    private static string Text(RankResult r) => string.Create(
        CultureInfo.InvariantCulture,
        $"rank: {r.Completed:N0}/{r.Scheduled:N0} ok at {r.AchievedRate:F1}/s (target {r.TargetRate}/s, max dispatch lag {r.MaxDispatchLagMs:F2} ms); errors {r.Errors}{Errors(r.ErrorsByKind)}\n  latency from schedule {r.Latency}\n  service time          {r.ServiceTime}");

    private static string Errors(IReadOnlyDictionary<string, int> e) => e.Count == 0 ? "" : " (" + string.Join(", ", e.Select(p => $"{p.Key}: {p.Value}")) + ")";
}
