using Liber.Cli.Commands;

namespace Liber.Cli.Tests;

public sealed class ConsoleProgressTests
{
    [Fact]
    public void Off_a_terminal_progress_is_plain_lines_without_control_sequences()
    {
        var output = new StringWriter();
        var io = new CommandIo(output, new StringWriter());
        Assert.False(ConsoleProgress.IsTerminal(io));
        int result = ConsoleProgress.Run(io, "step", 3, step =>
        {
            step.Log.WriteLine("chain line");
            for (int i = 1; i <= 3; i++)
            {
                step.Report(i, $"epoch {i}");
            }

            return 42;
        });

        Assert.Equal(42, result);
        Assert.Equal(["chain line", "epoch 1", "epoch 2", "epoch 3"], output.ToString().TrimEnd().Split(Environment.NewLine));
        Assert.DoesNotContain('\u001b', output.ToString());
    }
}
