using System.Globalization;
using System.Text;

namespace Liber.Core.Data;

/// <summary>
/// The rules every event must meet, wherever it comes from (a data set file read by the readers, or a live event sent
/// to <c>liber serve</c>): written once here so that the service never accepts what the readers reject. Each check
/// returns null when the value is fine, else one line that says what is wrong and how to fix it; the caller adds where
/// (a file and line, or a request's <c>events[3].timestamp</c>).
/// </summary>
public static class EventRules
{
    /// <summary>Earliest accepted timestamp (1970-01-01) in unix seconds.</summary>
    public const long MinTimestamp = 0;

    /// <summary>Latest accepted timestamp (exclusive, 2100-01-01) in unix seconds.</summary>
    public const long MaxTimestamp = 4_102_444_800;

    /// <summary>Longest external user or item id, in Unicode characters (code points, as JSON Schema's maxLength counts them).</summary>
    public const int MaxIdLength = 128;

    /// <summary>
    /// Null when <paramref name="seconds"/> is unix seconds in [1970, 2100), else why not. A value past 2100 that would be in
    /// range as milliseconds gets the hint "milliseconds?" followed by <paramref name="millisecondsFix"/> (e.g.
    /// "send unix seconds", or "set timestamp_format to unix_ms in liber-csv.json"); null gives no such hint.
    /// </summary>
    public static string? TimestampProblem(long seconds, string? millisecondsFix)
    {
        const string Range = "timestamps are unix seconds between 1970 and 2100";
        if (seconds < MinTimestamp)
        {
            return $"timestamp {seconds} is before 1970: {Range}";
        }

        if (seconds >= MaxTimestamp)
        {
            return millisecondsFix is not null && seconds / 1000 is >= MinTimestamp and < MaxTimestamp
                ? $"timestamp {seconds} is after 2100: milliseconds? {millisecondsFix}"
                : $"timestamp {seconds} is after 2100: {Range}";
        }

        return null;
    }

    /// <summary>Null when <paramref name="rating"/> lies on <paramref name="scale"/> (range and step), else why not, ending with <paramref name="scaleFix"/> (where the scale is set).</summary>
    public static string? RatingProblem(float rating, RatingScale scale, string scaleFix)
    {
        ArgumentNullException.ThrowIfNull(scale);
        return float.IsFinite(rating) && scale.Contains(rating)
            ? null
            : $"rating {rating.ToString(CultureInfo.InvariantCulture)} is not on the rating scale {Describe(scale)}; {scaleFix}";
    }

    /// <summary>The scale in words: "[1, 5] in steps of 1", or "[0, 10]" for any value in range.</summary>
    public static string Describe(RatingScale scale)
    {
        ArgumentNullException.ThrowIfNull(scale);
        string range = string.Create(CultureInfo.InvariantCulture, $"[{scale.Min}, {scale.Max}]");
        return scale.Step is float step ? string.Create(CultureInfo.InvariantCulture, $"{range} in steps of {step}") : range;
    }

    /// <summary>Unicode characters (code points) in <paramref name="id"/>: what <see cref="MaxIdLength"/> counts (an emoji is one, not two UTF-16 units).</summary>
    public static int IdLength(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        int n = 0;
        foreach (Rune _ in id.EnumerateRunes())
        {
            n++;
        }

        return n;
    }

    /// <summary>Null when <paramref name="id"/> is a valid external id (not blank, valid Unicode without control characters, at most <see cref="MaxIdLength"/> characters), else why not.</summary>
    public static string? IdProblem(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (string.IsNullOrWhiteSpace(id))
        {
            return $"must be a non-empty string of at most {MaxIdLength} Unicode characters, not blank";
        }

        // A lone surrogate (JSON "\ud800") is not a character: it cannot be written as UTF-8 and would not round-trip.
        int length = 0;
        for (ReadOnlySpan<char> rest = id; !rest.IsEmpty; length++)
        {
            if (Rune.DecodeFromUtf16(rest, out Rune rune, out int used) != System.Buffers.OperationStatus.Done)
            {
                return "is not valid Unicode (a lone surrogate)";
            }

            if (Rune.IsControl(rune))
            {
                return $"contains the control character U+{rune.Value:X4}: ids are printable text";
            }

            rest = rest[used..];
        }

        return length <= MaxIdLength ? null : $"has {length} Unicode characters: at most {MaxIdLength} are allowed";
    }

    /// <summary>
    /// Parses a rating scale written <c>MIN:MAX[:STEP]</c> (e.g. <c>1:5:1</c> whole stars, <c>0.5:5:0.5</c> half stars,
    /// <c>0:10</c> any value in range). The label threshold is the protocol's 4 when it lies on the scale, else the midpoint.
    /// </summary>
    public static RatingScale ParseScale(string text, string what = "--rating-scale")
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(':');
        var values = new float[parts.Length];
        bool ok = parts.Length is 2 or 3;
        for (int i = 0; ok && i < parts.Length; i++)
        {
            ok = float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) && float.IsFinite(values[i]);
        }

        if (!ok || values[0] >= values[1] || (parts.Length == 3 && values[2] <= 0))
        {
            throw new ArgumentException($"{what} \"{text}\" is not MIN:MAX[:STEP] with MIN < MAX and STEP > 0 (e.g. 1:5:1 for whole stars, 0.5:5:0.5 for half stars, 0:10 for any value in range)");
        }

        float? stepValue = parts.Length == 3 ? values[2] : null;
        var probe = new RatingScale(values[0], values[1], 0, stepValue);
        float threshold = probe.Contains(4) ? 4 : (values[0] + values[1]) / 2;
        return probe with { DefaultThreshold = threshold };
    }
}
