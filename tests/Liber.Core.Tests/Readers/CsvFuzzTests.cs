using System.Diagnostics;
using System.Text;
using Liber.Core.Data;
using Xunit.Abstractions;

namespace Liber.Core.Tests.Readers;

/// <summary>
/// Mutated events files (fixed seed, bounded by count and time) give a data set or a <see cref="DataFormatException"/> that
/// names the file (and its line when one is at fault), never another exception type.
/// </summary>
public sealed class CsvFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int Cases = 400;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(45);
    private static readonly string[] Inserts =
    [
        "\"", ",", "\n", "\r\n", "\0", "\uFEFF", "é", "😀", "\"\"", ",,,,", "-", "1e400", "99999999999999999999", "NaN", "Infinity",
        "1700000000000", "-5", "\t", " ", "\\", "'", "user_id", "\"a,\nb\"",
    ];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Mutated_events_files_give_a_dataset_or_a_data_format_error_naming_the_file()
    {
        var rng = new Random(715);
        var outcomes = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        int n = 0;
        for (; n < Cases && clock.Elapsed < Budget; n++)
        {
            byte[] valid = Encoding.UTF8.GetBytes(ValidEvents(rng));
            byte[] events = Mutate(rng, valid);
            string eventsPath = _dir.WriteBytes("events.csv", events);
            bool withItems = rng.Next(3) == 0;
            string itemsPath = _dir.File("items.csv");
            if (withItems)
            {
                _dir.Write("items.csv", "item_id,title,categories\n" + string.Join("\n", Enumerable.Range(0, 10).Select(i => $"m{i},Movie {i},Drama")) + "\n");
            }
            else if (File.Exists(itemsPath))
            {
                File.Delete(itemsPath);
            }

            foreach (BadRowPolicy policy in new[] { BadRowPolicy.Fail, BadRowPolicy.Skip })
            {
                string outcome;
                try
                {
                    Dataset ds = _dir.Load("csv", policy);
                    Assert.True(ds.Events.Count > 0, "a data set without events was returned");
                    outcome = "dataset";
                }
                catch (DataFormatException e)
                {
                    Assert.True(e.File == eventsPath || e.File == itemsPath, $"the error names {e.File}");
                    Assert.StartsWith(e.Line > 0 ? $"{e.File}:{e.Line}: " : $"{e.File}: ", e.Message, StringComparison.Ordinal);
                    outcome = "error";
                }
                catch (Exception e)
                {
                    string shown = Encoding.UTF8.GetString(events[..Math.Min(events.Length, 400)]);
                    throw new Xunit.Sdk.XunitException($"case {n} ({policy}): {e.GetType().Name}: {e.Message}\nfile: {shown}\n{e}");
                }

                outcomes[$"{policy}:{outcome}"] = outcomes.GetValueOrDefault($"{policy}:{outcome}") + 1;
            }
        }

        output.WriteLine($"{n} cases in {clock.Elapsed.TotalSeconds:F1} s: " + string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}")));
        Assert.True(outcomes.GetValueOrDefault("Skip:dataset") > 10, "too few mutated files still load: the fuzzer no longer exercises the reader");
        Assert.True(outcomes.GetValueOrDefault("Fail:error") > 10, "too few mutated files fail: the fuzzer no longer mutates");
    }

    private static string ValidEvents(Random rng)
    {
        var sb = new StringBuilder("user_id,item_id,rating,timestamp\n");
        long ts = 1_600_000_000;
        for (int i = 0, n = rng.Next(1, 30); i < n; i++)
        {
            ts += rng.Next(0, 1000);
            sb.Append(CultureInfoInvariant($"u{rng.Next(5)},m{rng.Next(10)},{rng.Next(1, 6)},{ts}\n"));
        }

        return sb.ToString();
    }

    private static string CultureInfoInvariant(FormattableString s) => FormattableString.Invariant(s);

    private static byte[] Mutate(Random rng, byte[] valid)
    {
        byte[] b = [.. valid];
        switch (rng.Next(10))
        {
            case 0:
                return b;
            case 1: // byte flips
                for (int i = 0, k = rng.Next(1, 8); i < k; i++)
                {
                    b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return b;
            case 2: // truncated
                return b[..rng.Next(b.Length)];
            case 3: // random bytes
            {
                byte[] r = new byte[rng.Next(0, 300)];
                rng.NextBytes(r);
                return r;
            }

            case 4: // UTF-16 or UTF-32, with or without a byte-order mark
            {
                Encoding e = rng.Next(3) switch { 0 => Encoding.Unicode, 1 => Encoding.BigEndianUnicode, _ => Encoding.UTF32 };
                byte[] text = e.GetBytes(Encoding.UTF8.GetString(valid));
                return rng.Next(2) == 0 ? text : [.. e.GetPreamble(), .. text];
            }

            case 5: // the header dropped, or only the header kept
            {
                string s = Encoding.UTF8.GetString(valid);
                int nl = s.IndexOf('\n', StringComparison.Ordinal);
                return Encoding.UTF8.GetBytes(rng.Next(2) == 0 ? s[(nl + 1)..] : s[..(nl + 1)]);
            }

            default: // text inserted at random places
            {
                string s = Encoding.UTF8.GetString(valid);
                for (int i = 0, k = rng.Next(1, 5); i < k; i++)
                {
                    int at = rng.Next(s.Length + 1);
                    s = s[..at] + Inserts[rng.Next(Inserts.Length)] + s[at..];
                }

                return Encoding.UTF8.GetBytes(s);
            }
        }
    }
}
