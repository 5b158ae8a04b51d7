using System.Text;

namespace Liber.Interests.Prompts;

/// <summary>
/// Makes item, user and model text safe to embed in a prompt as data: control and bidi-override
/// characters removed, whitespace collapsed, quotes and angle brackets neutralised (so no value can
/// close a <c>&lt;data&gt;</c> block or a quoted field), and the length capped.
/// </summary>
public static class PromptText
{
    /// <summary>Sanitises <paramref name="value"/> and caps it at <paramref name="maxChars"/> characters (an ellipsis marks a cut).</summary>
    public static string Clean(string? value, int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChars, 1);
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var sb = new StringBuilder(Math.Min(value.Length, maxChars + 1));
        bool space = false;
        foreach (char c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                space = sb.Length > 0;
                continue;
            }

            if (IsFormatting(c))
            {
                continue;
            }

            if (space)
            {
                sb.Append(' ');
                space = false;
            }

            sb.Append(c switch
            {
                '"' => '\'',
                '<' => '‹',
                '>' => '›',
                _ => c,
            });
            if (sb.Length > maxChars)
            {
                break;
            }
        }

        if (sb.Length > maxChars)
        {
            sb.Length = maxChars - 1;
            sb.Append('…');
        }

        return sb.ToString();
    }

    /// <summary>Sanitised and wrapped in double quotes.</summary>
    public static string Quote(string? value, int maxChars) => "\"" + Clean(value, maxChars) + "\"";

    // Bidi overrides/isolates and zero-width characters can hide or reorder text.
    private static bool IsFormatting(char c) =>
        c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200B' or '\u200C' or '\u200D' or '\u200E' or '\u200F' or '\uFEFF';
}
