namespace Liber.Core.Data;

/// <summary>What a reader does with a row it cannot accept.</summary>
public enum BadRowPolicy
{
    /// <summary>Stop with a <see cref="DataFormatException"/> naming the file, line and text (default).</summary>
    Fail,

    /// <summary>Skip the row, count it by reason in the <see cref="LoadReport"/>.</summary>
    Skip,
}

/// <summary>A data file that cannot be read as its format requires. The message names file, line and value.</summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception for a problem at one line (0 when the whole file is at fault).</summary>
    public DataFormatException(string file, long line, string problem, string? text = null)
        : base(Format(file, line, problem, text))
    {
        File = file;
        Line = line;
        Problem = problem;
        Text = text;
    }

    /// <summary>The file at fault.</summary>
    public string File { get; }

    /// <summary>1-based line number, or 0 for the whole file.</summary>
    public long Line { get; }

    /// <summary>What is wrong, in words.</summary>
    public string Problem { get; }

    /// <summary>The offending text (truncated), if any.</summary>
    public string? Text { get; }

    private static string Format(string file, long line, string problem, string? text)
    {
        string where = line > 0 ? $"{file}:{line}" : file;
        return text is null ? $"{where}: {problem}" : $"{where}: {problem}: \"{Truncate(text)}\"";
    }

    internal static string Truncate(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "...");
}

/// <summary>Counts of what a load dropped or skipped, by reason, with the first example of each.</summary>
public sealed class LoadReport
{
    private readonly Dictionary<string, int> _skipped = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _examples = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _folded = new(StringComparer.Ordinal);

    /// <summary>Rows skipped under <see cref="BadRowPolicy.Skip"/>, over all reasons.</summary>
    public int BadRowsSkipped => _skipped.Values.Sum();

    /// <summary>Skipped rows by reason.</summary>
    public IReadOnlyDictionary<string, int> SkippedByReason => _skipped;

    /// <summary>First skipped row of each reason (file:line: text).</summary>
    public IReadOnlyDictionary<string, string> Examples => _examples;

    /// <summary>Rows kept but folded into another event or otherwise reinterpreted, by what was done (never dropped silently).</summary>
    public IReadOnlyDictionary<string, int> Folded => _folded;

    /// <summary>Counts one row folded or reinterpreted as <paramref name="what"/> says.</summary>
    public void Fold(string what) => _folded[what] = _folded.GetValueOrDefault(what) + 1;

    /// <summary>Records one skipped row.</summary>
    public void Skip(string reason, string file, long line, string text)
    {
        _skipped[reason] = _skipped.GetValueOrDefault(reason) + 1;
        _examples.TryAdd(reason, $"{file}:{line}: {DataFormatException.Truncate(text)}");
    }
}

/// <summary>Applies a <see cref="BadRowPolicy"/>: throws under Fail, counts under Skip.</summary>
public sealed class BadRowHandler(BadRowPolicy policy, LoadReport report)
{
    /// <summary>The policy in force.</summary>
    public BadRowPolicy Policy { get; } = policy;

    /// <summary>The report skipped rows are counted in.</summary>
    public LoadReport Report { get; } = report;

    /// <summary>Reports a bad row: throws under Fail, counts it under Skip.</summary>
    public void Bad(string reason, string file, long line, string text, string? detail = null)
    {
        if (Policy == BadRowPolicy.Fail)
        {
            string hint = detail is null ? reason : $"{reason} ({detail})";
            throw new DataFormatException(file, line, hint + "; pass --on-bad-row skip to skip and count such rows", text);
        }

        Report.Skip(reason, file, line, text);
    }
}
