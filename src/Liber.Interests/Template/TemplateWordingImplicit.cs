using System.Globalization;
using System.Text;
using Liber.Interests.Prompts;

namespace Liber.Interests.Template;

/// <summary>
/// The template wording for implicit feedback (Last.fm, <c>csv</c> with <c>"rating": null</c>), used by every writer version
/// when the data set has no ratings: no rating or "liked" words (every event is a positive), but what implicit data does say:
/// the styles, the artists (items) by name, discovery (events whose styles were all new to the user) against staying
/// within styles already heard, and activity. Texts start with the writer version's label, as the rated wording does.
/// </summary>
internal static class TemplateWordingImplicit
{
    /// <summary>Discovery in words, from the discovery share.</summary>
    public static string Discovery(double share) => share switch
    {
        >= 0.5 => "mostly discovering styles new to them",
        >= 0.2 => "partly discovering new styles",
        > 0 => "mostly staying within styles already heard, with a few discoveries",
        _ => "staying within styles already heard",
    };

    public static string Summary(string label, RangeStats s, string categoryWord, string itemWord)
    {
        var sb = new StringBuilder(label).Append(' ');
        sb.Append(CultureInfo.InvariantCulture, $"Listening summary of {s.Count} {itemWord}, {PromptRenderer.FormatSpan(s.StartTime, s.EndTime)}, {TemplateWordingV2.Activity(s.EventsPerDay)}. ");
        var named = s.Categories.Where((c, i) => i < 4 && (i == 0 || c.Fraction >= 0.1)).ToList();
        sb.Append(named.Count == 0
            ? $"No {categoryWord} known. "
            : $"Main {categoryWord}: {string.Join(", ", named.Select(c => $"{c.Name} ({TemplateWordingV2.Amount(c.Fraction)})"))}. ");
        if (s.DiscoveryShare is double d)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Discovery: {Discovery(d)} ({Pct(d)} of the {itemWord}). ");
        }

        var tags = s.Tags.Where(t => t.Fraction * s.Count >= 1.5 && !named.Any(c => string.Equals(c.Name, t.Name, StringComparison.OrdinalIgnoreCase))).Take(3).ToList();
        if (tags.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Also tagged: {string.Join(", ", tags.Select(t => PromptText.Clean(t.Name, 40)))}. ");
        }

        if (s.Favourites.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{char.ToUpperInvariant(itemWord[0])}{itemWord[1..]}: ").AppendJoin(", ", s.Favourites.Take(5).Select(r => PromptText.Quote(r.Title, 80))).Append('.');
        }

        return sb.ToString().TrimEnd();
    }

    public static string Shift(string label, RangeStats previous, RangeStats current, string categoryWord, double threshold)
    {
        var names = previous.Categories.Select(c => c.Name).Union(current.Categories.Select(c => c.Name), StringComparer.OrdinalIgnoreCase).ToList();
        var deltas = names.Select(n => (Name: n, Before: previous.ShareOf(n), After: current.ShareOf(n))).ToList();
        var rising = deltas.Where(d => d.After - d.Before >= threshold).OrderByDescending(d => d.After - d.Before).ThenBy(d => d.Name, StringComparer.Ordinal).Take(4).Select(d => d.Name).ToList();
        var falling = deltas.Where(d => d.Before - d.After >= threshold).OrderByDescending(d => d.Before - d.After).ThenBy(d => d.Name, StringComparer.Ordinal).Take(4).Select(d => d.Name).ToList();
        var sb = new StringBuilder(label).Append(' ');
        sb.Append(CultureInfo.InvariantCulture, $"Listening shift from {PromptRenderer.FormatSpan(previous.StartTime, previous.EndTime)} to {PromptRenderer.FormatSpan(current.StartTime, current.EndTime)}. ");
        sb.Append(rising.Count == 0 ? $"No {categoryWord} rising. " : $"More {string.Join(", ", rising)}. ");
        sb.Append(falling.Count == 0 ? $"No {categoryWord} fading. " : $"Less {string.Join(", ", falling)}. ");
        if (previous.Categories.Count > 0 && current.Categories.Count > 0)
        {
            string before = previous.Categories[0].Name, after = current.Categories[0].Name;
            sb.Append(string.Equals(before, after, StringComparison.OrdinalIgnoreCase) ? $"Still mainly {after}. " : $"Main style moved from {before} to {after}. ");
        }

        if (previous.DiscoveryShare is double db && current.DiscoveryShare is double da)
        {
            sb.Append(da - db >= threshold ? "Exploring more. " : db - da >= threshold ? "Exploring less, settling into known styles. " : "Exploring as before. ");
        }

        string activity = TemplateWordingV2.Activity(current.EventsPerDay);
        sb.Append(activity == TemplateWordingV2.Activity(previous.EventsPerDay) ? $"Activity unchanged ({activity})." : $"Activity now {activity} (was {TemplateWordingV2.Activity(previous.EventsPerDay)}).");
        return sb.ToString();
    }

    private static string Pct(double share) => ((int)Math.Round(share * 100)).ToString(CultureInfo.InvariantCulture) + "%";
}
