using System.Globalization;
using System.Text;
using Liber.Core.Streams;
using Liber.Interests.Prompts;

namespace Liber.Interests.Template;

/// <summary>
/// The offline <c>template</c> backend: a deterministic writer (no LLM) that composes interest summaries and
/// shifts from event statistics: dominant and rising/falling categories with shares, favourite and disliked
/// items by title, eras, tags, rating level and its change, and activity rate. Every text starts with
/// <see cref="Label"/> so that no reader mistakes it for LLM output.
/// </summary>
public sealed class TemplateInterestWriter
{
    /// <summary>Version of the writer's first wording, the default (recorded like a prompt template version).</summary>
    public const string Version = "template-v1";

    /// <summary>The label every v1 text starts with.</summary>
    public const string Label = "[template-v1 writer, no LLM]";

    /// <summary>Version of the wording written for an encoder (words, per-category sentiment, titles; see <see cref="TemplateWordingV2"/>).</summary>
    public const string VersionV2 = TemplateWordingV2.Version;

    /// <summary>The label every v2 text starts with.</summary>
    public const string LabelV2 = TemplateWordingV2.Label;

    /// <summary>The writer versions, oldest first.</summary>
    public static IReadOnlyList<string> Versions { get; } = [Version, VersionV2];

    /// <summary>Share difference (in share units) for a category to count as rising or falling.</summary>
    public const double ShiftThreshold = 0.10;

    private readonly UserStreams _streams;
    private readonly string _categoryWord;
    private readonly string _itemWord;
    private readonly string _scaleMax;
    private readonly bool _implicit;
    private readonly string _domain;

    /// <summary>Creates a writer over a data set's streams, worded for a prompt domain (movies, music, generic), in wording <paramref name="version"/> (<see cref="Versions"/>).</summary>
    public TemplateInterestWriter(UserStreams streams, string domain = "movies", string version = Version)
    {
        if (!Versions.Contains(version))
        {
            throw new ArgumentException($"template writer version '{version}' is not one of {string.Join(", ", Versions)}");
        }

        _streams = streams;
        WriterVersion = version;
        (_categoryWord, _itemWord) = domain switch
        {
            "movies" => ("genres", "movies"),
            "music" => ("styles", "items"),
            _ => ("categories", "items"),
        };
        _scaleMax = streams.Dataset.Scale.Max.ToString("0.#", CultureInfo.InvariantCulture);
        _implicit = streams.Dataset.Scale.Min >= streams.Dataset.Scale.Max;
        _domain = domain;
    }

    /// <summary>Whether the data has no ratings, so texts use the implicit-feedback wording (<see cref="TemplateWordingImplicit"/>).</summary>
    public bool IsImplicit => _implicit;

    private string VersionLabel => WriterVersion == VersionV2 ? LabelV2 : Label;

    // Implicit music data names its items as what they are.
    private string ImplicitItemWord => _domain == "music" ? "artists" : _itemWord;

    /// <summary>The wording version of this writer.</summary>
    public string WriterVersion { get; }

    /// <summary>The summary of any event range [start, end] (inclusive) of a user: a partition, or a whole history before a cut-off.</summary>
    public string Summarize(int user, int start, int end) => Summarize(RangeStats.Of(_streams, user, start, end));

    /// <summary>The shift from range [previousStart, previousEnd] to range [start, end] of a user.</summary>
    public string Shift(int user, int previousStart, int previousEnd, int start, int end) =>
        Shift(RangeStats.Of(_streams, user, previousStart, previousEnd), RangeStats.Of(_streams, user, start, end));

    /// <summary>The summary of precomputed statistics.</summary>
    public string Summarize(RangeStats s)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (_implicit)
        {
            return TemplateWordingImplicit.Summary(VersionLabel, s, _categoryWord, ImplicitItemWord);
        }

        if (WriterVersion == VersionV2)
        {
            return TemplateWordingV2.Summary(s, _categoryWord, _itemWord);
        }

        var sb = new StringBuilder(Label).Append(' ');
        sb.Append(CultureInfo.InvariantCulture, $"Interest summary of {s.Count} {_itemWord}, {PromptRenderer.FormatSpan(s.StartTime, s.EndTime)}, {s.EventsPerDay:0.#} per day. ");
        var dominant = s.Categories.Take(3).Where((c, i) => i == 0 || c.Fraction >= 0.1).ToList();
        if (dominant.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Dominant {_categoryWord}: {string.Join(", ", dominant.Select(c => $"{c.Name} {Pct(c.Fraction)} (mean {c.MeanRating:0.0})"))}. ");
            var rated = s.Categories.Where(c => c.Fraction * s.Count >= 3).ToList();
            if (rated.Count >= 2)
            {
                Share best = rated.MaxBy(c => c.MeanRating), worst = rated.MinBy(c => c.MeanRating);
                sb.Append(CultureInfo.InvariantCulture, $"Best-rated: {best.Name} ({best.MeanRating:0.0}); worst-rated: {worst.Name} ({worst.MeanRating:0.0}). ");
            }
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"No {_categoryWord} known. ");
        }

        if (s.Decades.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Eras: {string.Join(", ", s.Decades.Take(2).Select(d => $"{d.Name} {Pct(d.Fraction)}"))}. ");
        }

        // A tag on a single item says little about the period: only tags seen at least twice are named.
        var tags = s.Tags.Where(t => t.Fraction * s.Count >= 1.5).Take(3).ToList();
        if (tags.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Frequent tags: {string.Join(", ", tags.Select(t => $"{PromptText.Clean(t.Name, 40)} {Pct(t.Fraction)}"))}. ");
        }

        sb.Append(CultureInfo.InvariantCulture, $"Ratings: mean {s.MeanRating:0.0} of {_scaleMax}, {Pct(s.LikedShare)} liked. ");
        if (s.Favourites.Count > 0)
        {
            sb.Append("Favourites: ").AppendJoin(", ", s.Favourites.Take(3).Select(Title)).Append(". ");
        }

        if (s.Disliked.Count > 0)
        {
            sb.Append("Disliked: ").AppendJoin(", ", s.Disliked.Take(2).Select(Title)).Append(". ");
        }

        return sb.ToString().TrimEnd();
    }

    /// <summary>The shift between two precomputed statistics.</summary>
    public string Shift(RangeStats previous, RangeStats current)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        if (_implicit)
        {
            return TemplateWordingImplicit.Shift(VersionLabel, previous, current, _categoryWord, ShiftThreshold);
        }

        if (WriterVersion == VersionV2)
        {
            return TemplateWordingV2.Shift(previous, current, _categoryWord, ShiftThreshold);
        }

        var names = previous.Categories.Select(c => c.Name).Union(current.Categories.Select(c => c.Name), StringComparer.OrdinalIgnoreCase).ToList();
        var deltas = names.Select(n => (Name: n, Before: previous.ShareOf(n), After: current.ShareOf(n)))
                          .Select(d => (d.Name, d.Before, d.After, Delta: d.After - d.Before)).ToList();
        var rising = deltas.Where(d => d.Delta >= ShiftThreshold).OrderByDescending(d => d.Delta).ThenBy(d => d.Name, StringComparer.Ordinal).Take(4).ToList();
        var falling = deltas.Where(d => d.Delta <= -ShiftThreshold).OrderBy(d => d.Delta).ThenBy(d => d.Name, StringComparer.Ordinal).Take(4).ToList();
        var sb = new StringBuilder(Label).Append(' ');
        sb.Append(CultureInfo.InvariantCulture, $"Interest shift from the previous period ({PromptRenderer.FormatSpan(previous.StartTime, previous.EndTime)}) to this one ({PromptRenderer.FormatSpan(current.StartTime, current.EndTime)}). ");
        sb.Append(CultureInfo.InvariantCulture, $"Rising {_categoryWord}: {(rising.Count == 0 ? "none" : string.Join(", ", rising.Select(d => $"{d.Name} +{Pts(d.Delta)} ({Pct(d.Before)} -> {Pct(d.After)})")))}. ");
        sb.Append(CultureInfo.InvariantCulture, $"Falling {_categoryWord}: {(falling.Count == 0 ? "none" : string.Join(", ", falling.Select(d => $"{d.Name} -{Pts(-d.Delta)} ({Pct(d.Before)} -> {Pct(d.After)})")))}. ");
        var added = deltas.Where(d => d.Before == 0 && d.After >= 0.15).Select(d => d.Name).ToList();
        var faded = deltas.Where(d => d.After == 0 && d.Before >= 0.15).Select(d => d.Name).ToList();
        if (added.Count > 0)
        {
            sb.Append("New: ").AppendJoin(", ", added).Append(". ");
        }

        if (faded.Count > 0)
        {
            sb.Append("Faded: ").AppendJoin(", ", faded).Append(". ");
        }

        if (previous.Categories.Count > 0 && current.Categories.Count > 0)
        {
            string before = previous.Categories[0].Name, after = current.Categories[0].Name;
            sb.Append(string.Equals(before, after, StringComparison.OrdinalIgnoreCase)
                ? $"Dominant stayed {after}. "
                : $"Dominant moved from {before} to {after}. ");
        }

        if (previous.Decades.Count > 0 && current.Decades.Count > 0 && previous.Decades[0].Name != current.Decades[0].Name)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Era moved from the {previous.Decades[0].Name} to the {current.Decades[0].Name}. ");
        }

        double dr = current.MeanRating - previous.MeanRating;
        sb.Append(CultureInfo.InvariantCulture, $"Ratings: mean {previous.MeanRating:0.0} -> {current.MeanRating:0.0} ({(dr >= 0 ? "+" : "-")}{Math.Abs(dr):0.0}), liked {Pct(previous.LikedShare)} -> {Pct(current.LikedShare)}. ");
        sb.Append(CultureInfo.InvariantCulture, $"Activity: {previous.EventsPerDay:0.#} -> {current.EventsPerDay:0.#} per day.");
        return sb.ToString();
    }

    private static string Pct(double share) => ((int)Math.Round(share * 100)).ToString(CultureInfo.InvariantCulture) + "%";

    private static string Pts(double delta) => ((int)Math.Round(delta * 100)).ToString(CultureInfo.InvariantCulture) + " pts";

    private static string Title(RatedItem r) =>
        PromptText.Quote(r.Title, 80) + (r.Year is int y ? $" ({y.ToString(CultureInfo.InvariantCulture)})" : string.Empty) + " " + r.Rating.ToString("0.#", CultureInfo.InvariantCulture);
}
