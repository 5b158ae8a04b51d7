using System.Globalization;
using System.Text;
using Liber.Core.Data;
using Liber.Core.Streams;

namespace Liber.Interests.Prompts;

/// <summary>A rendered prompt: the system and user messages.</summary>
/// <param name="System">System message.</param>
/// <param name="User">User message.</param>
public sealed record ChatPrompt(string System, string User);

/// <summary>Length caps applied when rendering data into prompts.</summary>
public sealed record PromptLimits
{
    /// <summary>Characters of a title.</summary>
    public int Title { get; init; } = 150;

    /// <summary>Characters of one category, tag or profile value.</summary>
    public int Field { get; init; } = 40;

    /// <summary>Categories per item.</summary>
    public int Categories { get; init; } = 8;

    /// <summary>Tags per item.</summary>
    public int Tags { get; init; } = 5;

    /// <summary>Characters of an earlier summary carried into a prompt.</summary>
    public int Summary { get; init; } = 3000;

    /// <summary>Word limit asked of the model per text.</summary>
    public int MaxWords { get; init; } = 180;
}

/// <summary>
/// Renders a user's event range (rows <c>Offsets[user]+start .. Offsets[user]+end</c> of the user streams)
/// into the prompts of one domain's <see cref="PromptSet"/>: profile, time span, and items with title,
/// year, categories, tags and the user's rating, all quoted, sanitised and capped.
/// </summary>
public sealed class PromptRenderer
{
    private readonly UserStreams _streams;
    private readonly Dataset _dataset;

    /// <summary>Creates a renderer over a data set's streams.</summary>
    public PromptRenderer(UserStreams streams, PromptSet templates, PromptLimits? limits = null)
    {
        _streams = streams;
        _dataset = streams.Dataset;
        Templates = templates;
        Limits = limits ?? new PromptLimits();
    }

    /// <summary>The templates rendered.</summary>
    public PromptSet Templates { get; }

    /// <summary>The caps applied.</summary>
    public PromptLimits Limits { get; }

    /// <summary>The summary prompt of events [start, end] of a user; <paramref name="previousSummary"/> is the cascade context.</summary>
    public ChatPrompt Summary(int user, int start, int end, string? previousSummary) =>
        new(Templates.System, Fill(Templates.Summary, user, start, end, previousSummary, null, isFirst: previousSummary is null));

    /// <summary>The shift prompt: previous and current summaries of consecutive partitions.</summary>
    public ChatPrompt Shift(int user, int start, int end, string previousSummary, string currentSummary) =>
        new(Templates.System, Fill(Templates.Shift, user, start, end, previousSummary, currentSummary, isFirst: false));

    /// <summary>The one-call prompt (JSON answer with summary and shift); the shift must be null when <paramref name="isFirst"/>.</summary>
    public ChatPrompt OneCall(int user, int start, int end, string? previousSummary, bool isFirst) =>
        new(Templates.System, Fill(Templates.OneCall, user, start, end, previousSummary, null, isFirst));

    /// <summary>The rendered item lines of events [start, end] of a user.</summary>
    public string Items(int user, int start, int end)
    {
        var sb = new StringBuilder();
        int row0 = _streams.Offsets[user];
        ReadOnlySpan<int> items = _streams.Items;
        ReadOnlySpan<float> ratings = _streams.Ratings;
        for (int i = start; i <= end; i++)
        {
            if (i > start)
            {
                sb.Append('\n');
            }

            AppendItem(sb, _dataset.Catalog[items[row0 + i]], ratings[row0 + i]);
        }

        return sb.ToString();
    }

    /// <summary>One item line: "title" | year | categories | tags | rating.</summary>
    public string ItemLine(Item item, float rating)
    {
        var sb = new StringBuilder();
        AppendItem(sb, item, rating);
        return sb.ToString();
    }

    /// <summary>The user's profile as sanitised key: value pairs ("no profile" when empty).</summary>
    public string Profile(int user)
    {
        UserProfile? p = user < _dataset.Profiles.Count ? _dataset.Profiles[user] : null;
        if (p is null)
        {
            return "no profile";
        }

        var parts = new List<string>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                parts.Add($"{key}: {PromptText.Quote(value, Limits.Field)}");
            }
        }

        Add("age", p.Age?.ToString(CultureInfo.InvariantCulture) ?? p.AgeGroup);
        Add("gender", p.Gender);
        Add("occupation", p.Occupation);
        foreach (var kv in p.Extra.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            Add(PromptText.Clean(kv.Key, Limits.Field), kv.Value);
        }

        return parts.Count == 0 ? "no profile" : string.Join("; ", parts);
    }

    /// <summary>The time span of events [start, end] of a user, e.g. "2015-03-01 to 2015-03-20 (20 days)".</summary>
    public string Span(int user, int start, int end)
    {
        long t0 = _streams.Timestamps[_streams.Offsets[user] + start], t1 = _streams.Timestamps[_streams.Offsets[user] + end];
        return FormatSpan(t0, t1);
    }

    /// <summary>Formats a span of unix seconds.</summary>
    public static string FormatSpan(long t0, long t1)
    {
        string a = DateTimeOffset.FromUnixTimeSeconds(t0).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        string b = DateTimeOffset.FromUnixTimeSeconds(t1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        double days = (t1 - t0) / 86400.0;
        string length = days < 1 ? $"{Math.Max(1, (int)Math.Round(days * 24))} h" : $"{Math.Round(days):0} days";
        return a == b ? $"{a} ({length})" : $"{a} to {b} ({length})";
    }

    private string Fill(string template, int user, int start, int end, string? previous, string? current, bool isFirst)
    {
        RatingScale s = _dataset.Scale;
        var sb = new StringBuilder(template);
        sb.Replace("{{max_words}}", Limits.MaxWords.ToString(CultureInfo.InvariantCulture))
          .Replace("{{span}}", Span(user, start, end))
          .Replace("{{count}}", (end - start + 1).ToString(CultureInfo.InvariantCulture))
          .Replace("{{scale}}", string.Create(CultureInfo.InvariantCulture, $"{s.Min:0.#}-{s.Max:0.#}"))
          .Replace("{{shift_rule}}", isFirst
              ? "This is the user's first period: there is no previous summary, so \"shift\" must be null."
              : "\"shift\" must be a non-empty string.")
          .Replace("{{previous_summary}}", PromptText.Clean(previous, Limits.Summary))
          .Replace("{{current_summary}}", PromptText.Clean(current, Limits.Summary));
        if (template.Contains("{{profile}}", StringComparison.Ordinal))
        {
            sb.Replace("{{profile}}", Profile(user));
        }

        if (template.Contains("{{items}}", StringComparison.Ordinal))
        {
            sb.Replace("{{items}}", Items(user, start, end));
        }

        return sb.ToString();
    }

    private void AppendItem(StringBuilder sb, Item item, float rating)
    {
        sb.Append("- ").Append(PromptText.Quote(item.Title, Limits.Title));
        sb.Append(" | ").Append(item.Year is int y ? y.ToString(CultureInfo.InvariantCulture) : "year unknown");
        sb.Append(" | ");
        if (item.Categories.Count == 0)
        {
            sb.Append("none");
        }

        for (int c = 0; c < Math.Min(item.Categories.Count, Limits.Categories); c++)
        {
            sb.Append(c > 0 ? ", " : string.Empty).Append(PromptText.Clean(item.Categories[c], Limits.Field));
        }

        if (item.Tags.Count > 0)
        {
            sb.Append(" | tags: ");
            for (int t = 0; t < Math.Min(item.Tags.Count, Limits.Tags); t++)
            {
                sb.Append(t > 0 ? ", " : string.Empty).Append(PromptText.Quote(item.Tags[t], Limits.Field));
            }
        }

        sb.Append(" | rated ").Append(rating.ToString("0.0", CultureInfo.InvariantCulture));
    }
}
