using System.Text;
using Spectre.Console;

namespace Liber.Cli.Commands;

/// <summary>Where a long step reports: a log for lines and a progress value with a description.</summary>
public interface IStepReporter
{
    /// <summary>Lines of the step (shown above the bar on a terminal, written as they are otherwise).</summary>
    TextWriter Log { get; }

    /// <summary>Moves the bar to <paramref name="value"/> (of the total) with a description; a plain line when not on a terminal.</summary>
    void Report(double value, string description);
}

/// <summary>
/// Progress for long steps: a Spectre.Console progress bar when the command writes to a terminal, plain lines
/// otherwise (pipes, logs, tests), so that scripts never see control sequences.
/// </summary>
public static class ConsoleProgress
{
    /// <summary>Whether <paramref name="io"/> writes to an interactive terminal.</summary>
    public static bool IsTerminal(CommandIo io) => ReferenceEquals(io.Output, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>Runs <paramref name="body"/> with a reporter for a step of <paramref name="total"/> units.</summary>
    public static T Run<T>(CommandIo io, string title, double total, Func<IStepReporter, T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!IsTerminal(io))
        {
            return body(new PlainReporter(io.Output));
        }

        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        T result = default!;
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn()).Start(ctx =>
        {
            ProgressTask task = ctx.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
            using var log = new LineWriter(line => console.WriteLine(line));
            result = body(new BarReporter(task, log, title));
            task.Value = task.MaxValue;
        });
        return result;
    }

    private sealed class PlainReporter(TextWriter output) : IStepReporter
    {
        public TextWriter Log => output;

        public void Report(double value, string description) => output.WriteLine(description);
    }

    private sealed class BarReporter(ProgressTask task, TextWriter log, string title) : IStepReporter
    {
        public TextWriter Log => log;

        public void Report(double value, string description)
        {
            task.Value = Math.Min(value, task.MaxValue);
            task.Description = Markup.Escape($"{title} {value:0}/{task.MaxValue:0}");
            log.WriteLine(description);
        }
    }

    /// <summary>A writer that hands every complete line to a callback (thread-safe).</summary>
    private sealed class LineWriter(Action<string> onLine) : TextWriter
    {
        private readonly StringBuilder _line = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_line)
            {
                if (value == '\n')
                {
                    onLine(_line.ToString().TrimEnd('\r'));
                    _line.Clear();
                }
                else
                {
                    _line.Append(value);
                }
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_line)
            {
                onLine(_line.Append(value).ToString());
                _line.Clear();
            }
        }
    }
}
