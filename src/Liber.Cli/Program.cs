namespace Liber.Cli;

/// <summary>Entry point of the <c>liber</c> command.</summary>
public static class Program
{
    /// <summary>Runs the command line; exit codes: 0 success, 1 user error, 2 internal error.</summary>
    public static int Main(string[] args) => LiberCommand.Run(args, Console.Out, Console.Error);
}
