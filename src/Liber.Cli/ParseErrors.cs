using System.CommandLine;
using System.CommandLine.Parsing;

namespace Liber.Cli;

/// <summary>
/// Turns System.CommandLine's parse errors into one line each that names the flag, the value given and what is accepted
/// (its own messages name CLR types such as 'System.Int32', span several lines and come with the whole help).
/// </summary>
public static class ParseErrors
{
    /// <summary>One line per parse error of <paramref name="parsed"/>.</summary>
    public static IEnumerable<string> Describe(ParseResult parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        string verb = string.Join(' ', Verbs(parsed.CommandResult));
        string help = verb.Length == 0 ? "liber --help" : $"liber {verb} --help";
        foreach (ParseError e in parsed.Errors)
        {
            yield return Line(e, help);
        }
    }

    private static string Line(ParseError e, string help)
    {
        OptionResult? option = e.SymbolResult switch
        {
            OptionResult o => o,
            ArgumentResult { Parent: OptionResult o } => o,
            _ => null,
        };
        string message = e.Message;
        if (option is not null)
        {
            string name = option.Option.Name;
            string value = string.Join(' ', option.Tokens.Select(t => t.Value));
            Type type = Nullable.GetUnderlyingType(option.Option.ValueType) ?? option.Option.ValueType;
            if (message.Contains("as expected type", StringComparison.Ordinal) && type.IsEnum)
            {
                return $"{name} {Quoted(e.Message) ?? value}: not accepted; one of {string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()))}";
            }

            if (message.Contains("as expected type", StringComparison.Ordinal))
            {
                string given = Quoted(e.Message) ?? value;
                return $"{name} {given}: not {Expected(type)}; give {name} {Example(type)}";
            }

            if (message.Contains("Must be one of", StringComparison.Ordinal))
            {
                string given = Quoted(e.Message) ?? value;
                return $"{name} {given}: not accepted; one of {string.Join(", ", Choices(message))}";
            }

            if (message.Contains("Required argument missing", StringComparison.Ordinal))
            {
                return $"{name} needs a value ({Expected(type)}); see {help}";
            }
        }

        if (message.StartsWith("Option '", StringComparison.Ordinal) && message.EndsWith("' is required.", StringComparison.Ordinal))
        {
            return $"{message.TrimEnd('.')}; see {help}";
        }

        if (message.StartsWith("Unrecognized command or argument", StringComparison.Ordinal))
        {
            return $"{message.TrimEnd('.')}: not an option of this verb; see {help}";
        }

        return string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) + $" (see {help})";
    }

    private static Stack<string> Verbs(CommandResult? c)
    {
        var names = new Stack<string>();
        for (SymbolResult? s = c; s is CommandResult cr && cr.Parent is not null; s = cr.Parent)
        {
            names.Push(cr.Command.Name);
        }

        return names;
    }

    /// <summary>The first '...' of a message: the token System.CommandLine could not take.</summary>
    private static string? Quoted(string message)
    {
        int a = message.IndexOf('\'', StringComparison.Ordinal);
        int b = a < 0 ? -1 : message.IndexOf('\'', a + 1);
        return b > a ? message[(a + 1)..b] : null;
    }

    private static IEnumerable<string> Choices(string message) =>
        message.Split('\n').Skip(1).Select(l => l.Trim().Trim('\'')).Where(l => l.Length > 0);

    private static string Expected(Type t) =>
        t == typeof(int) || t == typeof(long) ? "a whole number"
        : t == typeof(double) || t == typeof(float) ? "a number"
        : t == typeof(bool) ? "true or false"
        : t.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(t).Select(n => n.ToLowerInvariant()))
        : "a valid value";

    private static string Example(Type t) =>
        t == typeof(int) || t == typeof(long) ? "followed by a whole number such as 20"
        : t == typeof(double) || t == typeof(float) ? "followed by a number such as 0.5"
        : t == typeof(bool) ? "alone, or followed by true or false"
        : t.IsEnum ? "followed by " + string.Join(", ", Enum.GetNames(t).Select(n => n.ToLowerInvariant()))
        : "a valid value";
}
