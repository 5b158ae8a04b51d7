using System.Diagnostics;
using System.Net;
using System.Text;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Store;
using Xunit.Abstractions;

namespace Liber.Serve.Tests;

/// <summary>
/// Random and mutated <c>POST /v1/events</c> bodies (fixed seed, bounded by count and time): never a 500 or a stack trace,
/// and afterwards the store opens and every user's stream is in order with valid values (no poisoned store).
/// </summary>
public sealed class EventsFuzzTests(ITestOutputHelper output)
{
    private const int Bodies = 600;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);
    private static readonly string[] Users = ["u1", "u2", "a/b", "José", "😀"];
    private static readonly string[] Fields = ["event_id", "user", "item", "timestamp", "rating", "feedback"];
    private static readonly string[] OddValues =
    [
        "\"x\"", "\"1700000000\"", "true", "null", "[]", "{}", "[1,2]", "{\"a\":1}", "1.5", "-1", "0", "1e400", "-1e400",
        "99999999999999999999999", "-9223372036854775809", "9223372036854775807", "1700000000000", "253402300800", "\"\"",
        "\"\\ud800\"", "\"a\\u0000b\"", "99", "-3", "4.5", "NaN", "\"" + new string('x', 300) + "\"",
    ];

    private long _nextId = 1;
    private long _clock = 1_700_000_000;

    [Fact]
    public async Task Random_and_mutated_bodies_never_500_and_never_poison_the_store()
    {
        var rng = new Random(20240611);
        ServiceHost host = await ServiceHost.StartAsync(d => ServiceHost.Options(d) with { MaxBodyBytes = 64 * 1024 });
        ServeOptions options = host.State.Options;
        var statuses = new Dictionary<int, int>();
        var clock = Stopwatch.StartNew();
        int sent = 0;
        try
        {
            for (; sent < Bodies && clock.Elapsed < Budget; sent++)
            {
                byte[] body = Mutate(rng, Encoding.UTF8.GetBytes(ValidBody(rng)));
                HttpResponseMessage r = await host.PostBytesAsync("/v1/events", body);
                string text = await r.Content.ReadAsStringAsync();
                int code = (int)r.StatusCode;
                statuses[code] = statuses.GetValueOrDefault(code) + 1;
                string shown = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 300)]);
                Assert.True(code is 200 or 400 or 413, $"{code} for body {shown}: {text}");
                Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
                Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
                Assert.DoesNotContain(".cs:line", text, StringComparison.Ordinal);
            }

            output.WriteLine($"{sent} bodies in {clock.Elapsed.TotalSeconds:F1} s: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}")));
            Assert.True(statuses.GetValueOrDefault(200) > 20, "too few bodies were accepted: the fuzzer no longer exercises the store");
            Assert.True(statuses.GetValueOrDefault(400) > 20, "too few bodies were refused: the fuzzer no longer mutates");
        }
        finally
        {
            await host.StopAsync();
        }

        try
        {
            AssertStoreIsSound(options);
        }

        finally
        {
            await host.DisposeAsync();
        }
    }

    private static void AssertStoreIsSound(ServeOptions options)
    {
        using SqlitePartitionStore store = SqlitePartitionStore.OpenServing(options.StorePath, PartitionPolicies.Create(options.Partition), options.Partition.Caps, new Cl100kTokenCounter(), options.Store);
        Assert.True(store.Users().Count > 0);
        foreach (int user in store.Users())
        {
            PartitionEvent[] stream = [.. store.Jobs(user).SelectMany(j => j.Events), .. store.State(user)!.Cache];
            string name = store.UserName(user);
            Assert.Null(EventRules.IdProblem(name));
            for (int i = 0; i < stream.Length; i++)
            {
                Assert.Null(EventRules.TimestampProblem(stream[i].Timestamp, null));
                Assert.True(options.Scale.Contains(stream[i].Rating) || stream[i].Rating is 0 or 1, $"user {name}: rating {stream[i].Rating}");
                if (i > 0)
                {
                    Assert.True(stream[i - 1].Timestamp <= stream[i].Timestamp, $"user {name}: event {i} at {stream[i].Timestamp} is before {stream[i - 1].Timestamp}");
                }
            }
        }
    }

    /// <summary>A valid batch of 1-5 events with increasing times (so most unmutated bodies are applied).</summary>
    private string ValidBody(Random rng)
    {
        var events = new List<string>();
        int n = rng.Next(1, 6);
        for (int i = 0; i < n; i++)
        {
            _clock += rng.Next(0, 100);
            string value = rng.Next(4) == 0 ? $"\"feedback\":{rng.Next(2)}" : $"\"rating\":{rng.Next(1, 6)}";
            events.Add($$"""{"event_id":{{_nextId++}},"user":{{System.Text.Json.JsonSerializer.Serialize(Users[rng.Next(Users.Length)])}},"item":"m{{rng.Next(20)}}","timestamp":{{_clock}},{{value}}}""");
        }

        return $$"""{"events":[{{string.Join(",", events)}}]}""";
    }

    private static byte[] Mutate(Random rng, byte[] valid)
    {
        string text = Encoding.UTF8.GetString(valid);
        switch (rng.Next(12))
        {
            case 0:
                return valid; // unmutated: keeps the store growing
            case 1: // a field gets a value of another type, or an odd number
            {
                string field = Fields[rng.Next(Fields.Length)];
                int at = text.IndexOf($"\"{field}\":", StringComparison.Ordinal);
                if (at < 0)
                {
                    return valid;
                }

                int start = at + field.Length + 3;
                int end = text.IndexOfAny([',', '}'], start);
                return Encoding.UTF8.GetBytes(text[..start] + OddValues[rng.Next(OddValues.Length)] + text[end..]);
            }

            case 2: // deep nesting
            {
                int depth = rng.Next(10, 200);
                return Encoding.UTF8.GetBytes(rng.Next(2) == 0
                    ? new string('[', depth) + new string(']', depth)
                    : text.Replace("\"rating\":", "\"rating\":" + new string('[', depth), StringComparison.Ordinal) + new string(']', depth));
            }

            case 3: // truncated
                return valid[..rng.Next(valid.Length)];
            case 4: // invalid UTF-8 bytes, in a string or anywhere
            {
                byte[] b = [.. valid];
                int k = rng.Next(1, 4);
                for (int i = 0; i < k; i++)
                {
                    b[rng.Next(b.Length)] = (byte)rng.Next(0x80, 0x100);
                }

                return b;
            }

            case 5: // a duplicate key
            {
                string field = Fields[rng.Next(4)];
                return Encoding.UTF8.GetBytes(text.Replace($"\"{field}\":", $"\"{field}\":{OddValues[rng.Next(OddValues.Length)]},\"{field}\":", StringComparison.Ordinal));
            }

            case 6: // extra fields, at the top and in events
                return Encoding.UTF8.GetBytes(text.Replace("{\"event_id\"", "{\"extra\":{\"a\":[1,{\"b\":null}]},\"event_id\"", StringComparison.Ordinal)[..^1] + ",\"more\":[1,2,3]}");
            case 7: // random byte flips
            {
                byte[] b = [.. valid];
                int k = rng.Next(1, 6);
                for (int i = 0; i < k; i++)
                {
                    b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return b;
            }

            case 8: // random bytes
            {
                byte[] b = new byte[rng.Next(0, 200)];
                rng.NextBytes(b);
                return b;
            }

            case 9: // a valid shape around the wrong root
                return Encoding.UTF8.GetBytes(OddValues[rng.Next(OddValues.Length)]);
            case 10: // a huge batch of one repeated event, over the body limit now and then
            {
                int n = rng.Next(1, 2000);
                string one = text[(text.IndexOf('[', StringComparison.Ordinal) + 1)..text.IndexOf('}', StringComparison.Ordinal)] + "}";
                return Encoding.UTF8.GetBytes($$"""{"events":[{{string.Join(",", Enumerable.Repeat(one, n))}}]}""");
            }

            default: // events that are valid JSON but break the rules (time range, scale, ids)
                return Encoding.UTF8.GetBytes(text
                    .Replace("\"timestamp\":17", rng.Next(2) == 0 ? "\"timestamp\":-17" : "\"timestamp\":1700000000017", StringComparison.Ordinal)
                    .Replace("\"rating\":", rng.Next(2) == 0 ? "\"rating\":9" : "\"rating\":-", StringComparison.Ordinal));
        }
    }
}
