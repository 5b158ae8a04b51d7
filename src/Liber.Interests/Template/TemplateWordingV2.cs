using System.Globalization;
using System.Text;
using Liber.Interests.Prompts;

namespace Liber.Interests.Template;

/// <summary>
/// The wording of <c>template-v2</c>, written for a sentence encoder rather than a reader of tables: words instead of
/// digits ("mostly crime and drama, nearly all loved; the westerns were disliked"), a sentiment per category, the titles
/// of loved and disliked items (an encoder such as MiniLM knows many titles), and the shift as plain change words.
/// v1 stays for reproducibility. Every text starts with <see cref="Label"/>.
/// </summary>
internal static class TemplateWordingV2
{
    public const string Version = "template-v2";

    public const string Label = "[template-v2 writer, no LLM]";

    /// <summary>How much of the period a category covers, in words.</summary>
    public static string Amount(double share) => share switch
    {
        >= 0.5 => "mostly",
        >= 0.25 => "often",
        >= 0.1 => "some",
        _ => "a little",
    };

    /// <summary>How the user felt about what they watched or heard, from the liked share.</summary>
    public static string Sentiment(double liked) => liked switch
    {
        >= 0.85 => "nearly all loved",
        >= 0.65 => "mostly liked",
        >= 0.4 => "mixed feelings",
        >= 0.15 => "mostly disliked",
        _ => "disliked",
    };

    /// <summary>Activity in words, from events per day.</summary>
    public static string Activity(double perDay) => perDay switch
    {
        >= 10 => "a binge, many a day",
        >= 2 => "very active, several a day",
        >= 0.5 => "active, most days",
        >= 0.1 => "now and then",
        _ => "rarely",
    };

    public static string Summary(RangeStats s, string categoryWord, string itemWord)
    {
        var sb = new StringBuilder(Label).Append(' ');
        var named = s.Categories.Where((c, i) => i < 4 && (i == 0 || c.Fraction >= 0.1)).ToList();
        if (named.Count == 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"No {categoryWord} known; {Sentiment(s.LikedShare)} overall. ");
        }
        else
        {
            // Group the named categories by sentiment so the sentence reads "mostly crime and drama, nearly all loved".
            foreach (var group in named.GroupBy(c => Sentiment(c.Liked)).OrderByDescending(g => g.Sum(c => c.Fraction)))
            {
                sb.Append(CultureInfo.InvariantCulture, $"{Capitalise(Amount(group.Sum(c => c.Fraction)))} {Join(group.Select(c => c.Name.ToLowerInvariant()))} {itemWord}, {group.Key}. ");
            }
        }

        // Categories clearly disliked though not among the largest: the negative signal an encoder should see.
        var disliked = s.Categories.Skip(named.Count).Where(c => c.Fraction * s.Count >= 2 && c.Liked < 0.25).Take(2).ToList();
        if (disliked.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"The {Join(disliked.Select(c => c.Name.ToLowerInvariant()))} were disliked. ");
        }

        if (s.Favourites.Count > 0)
        {
            sb.Append("Loved: ").AppendJoin(", ", s.Favourites.Take(4).Select(f => PromptText.Clean(f.Title, 80))).Append(". ");
        }

        if (s.Disliked.Count > 0)
        {
            sb.Append("Disliked: ").AppendJoin(", ", s.Disliked.Take(3).Select(f => PromptText.Clean(f.Title, 80))).Append(". ");
        }

        if (s.Decades.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{Capitalise(Amount(s.Decades[0].Fraction))} from the {s.Decades[0].Name}. ");
        }

        sb.Append(CultureInfo.InvariantCulture, $"Overall {Sentiment(s.LikedShare)}; {Activity(s.EventsPerDay)}.");
        return sb.ToString();
    }

    public static string Shift(RangeStats previous, RangeStats current, string categoryWord, double threshold)
    {
        var names = previous.Categories.Select(c => c.Name).Union(current.Categories.Select(c => c.Name), StringComparer.OrdinalIgnoreCase).ToList();
        var deltas = names.Select(n => (Name: n.ToLowerInvariant(), Delta: current.ShareOf(n) - previous.ShareOf(n))).ToList();
        var toward = deltas.Where(d => d.Delta >= threshold).OrderByDescending(d => d.Delta).ThenBy(d => d.Name, StringComparer.Ordinal).Take(3).Select(d => d.Name).ToList();
        var away = deltas.Where(d => d.Delta <= -threshold).OrderBy(d => d.Delta).ThenBy(d => d.Name, StringComparer.Ordinal).Take(3).Select(d => d.Name).ToList();
        var sb = new StringBuilder(Label).Append(' ');
        if (toward.Count == 0 && away.Count == 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Same {categoryWord} as before. ");
        }
        else
        {
            if (toward.Count > 0)
            {
                sb.Append("Moved toward ").Append(Join(toward)).Append(". ");
            }

            if (away.Count > 0)
            {
                sb.Append("Moved away from ").Append(Join(away)).Append(". ");
            }
        }

        double dl = current.LikedShare - previous.LikedShare;
        sb.Append(dl switch
        {
            >= 0.15 => "Likes much more than before. ",
            >= 0.05 => "Likes a little more than before. ",
            <= -0.15 => "Likes much less than before. ",
            <= -0.05 => "Likes a little less than before. ",
            _ => "Likes about as much as before. ",
        });
        double ratio = current.EventsPerDay / Math.Max(1e-9, previous.EventsPerDay);
        sb.Append(ratio switch
        {
            >= 2 => "Far more active.",
            >= 1.25 => "More active.",
            <= 0.5 => "Far less active.",
            <= 0.8 => "Less active.",
            _ => "As active as before.",
        });
        return sb.ToString();
    }

    private static string Join(IEnumerable<string> words)
    {
        var list = words.ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list.Take(list.Count - 1)) + " and " + list[^1];
    }

    private static string Capitalise(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
