using System.CommandLine;
using System.Globalization;

namespace Liber.Cli.Commands;

/// <summary>
/// Range checks of flag values, run before any expensive work (loading, UIL, encoding, training): each failure is
/// one line naming the flag, the value given and the range accepted.
/// </summary>
public static class FlagChecks
{
    /// <summary>Requires <c>value &gt;= min</c> of an int flag.</summary>
    public static void AtLeast(ParseResult r, Option<int> o, int min, string? why = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(o);
        int v = r.GetValue(o);
        if (v < min)
        {
            throw new ArgumentException($"{o.Name} {v}: out of range; {why ?? "it"} must be >= {min}");
        }
    }

    /// <summary>Requires <c>value &gt;= min</c> of a long flag.</summary>
    public static void AtLeast(ParseResult r, Option<long> o, long min, string? why = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(o);
        long v = r.GetValue(o);
        if (v < min)
        {
            throw new ArgumentException($"{o.Name} {v}: out of range; {why ?? "it"} must be >= {min}");
        }
    }

    /// <summary>Requires <c>value &gt;= min</c> of an optional long flag when it is given.</summary>
    public static void AtLeast(ParseResult r, Option<long?> o, long min)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(o);
        if (r.GetValue(o) is long v && v < min)
        {
            throw new ArgumentException($"{o.Name} {v}: out of range; it must be >= {min} (or left out for no limit)");
        }
    }

    /// <summary>Requires a double flag's value inside a range (bounds open or closed).</summary>
    public static void InRange(ParseResult r, Option<double> o, double min, double max, bool minOpen = false, bool maxOpen = false)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(o);
        Check(o.Name, r.GetValue(o), min, max, minOpen, maxOpen);
    }

    /// <summary>Requires a float flag's value inside a range (bounds open or closed).</summary>
    public static void InRange(ParseResult r, Option<float> o, double min, double max, bool minOpen = false, bool maxOpen = false)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(o);
        Check(o.Name, r.GetValue(o), min, max, minOpen, maxOpen);
    }

    private static void Check(string name, double v, double min, double max, bool minOpen, bool maxOpen)
    {
        bool ok = (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max) && !double.IsNaN(v);
        if (!ok)
        {
            string range = double.IsPositiveInfinity(max)
                ? (minOpen ? $"> {F(min)}" : $">= {F(min)}")
                : $"in {(minOpen ? "(" : "[")}{F(min)}, {F(max)}{(maxOpen ? ")" : "]")}";
            throw new ArgumentException($"{name} {F(v)}: out of range; it must be {range}");
        }
    }

    private static string F(double x) => x.ToString("0.######", CultureInfo.InvariantCulture);
}
