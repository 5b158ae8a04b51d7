using System.CommandLine;
using Liber.Cli.Commands;
using Liber.Core.Data;

namespace Liber.Cli;

/// <summary>Builds the <c>liber</c> command tree and maps failures to exit codes.</summary>
public static class LiberCommand
{
    /// <summary>Exit code of success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code of a user error (bad input, bad option): the message says what to fix.</summary>
    public const int UserError = 1;

    /// <summary>Exit code of an internal error (a bug).</summary>
    public const int InternalError = 2;

    /// <summary>Parses and runs <paramref name="args"/>, writing to the given streams.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Liber: lifelong user behaviour modelling with LLMs (LIBER: UBSP partitions, UIL interest texts, UIF fusion into CTR models).");
        var io = new CommandIo(output, error);
        root.Subcommands.Add(DataCommand.Create(io));
        root.Subcommands.Add(PartitionCommand.Create(io));
        root.Subcommands.Add(DemoCommand.Create(io));
        root.Subcommands.Add(BenchCommand.Create(io));
        root.Subcommands.Add(TrainCommand.Create(io));
        root.Subcommands.Add(EvaluateCommand.Create(io));
        root.Subcommands.Add(RunCommand.Create(io));
        root.Subcommands.Add(ReportCommand.Create(io));
        root.Subcommands.Add(EncodeCommand.Create(io));
        root.Subcommands.Add(ProbeCommand.Create(io));
        root.Subcommands.Add(LearnCommand.Create(io));
        root.Subcommands.Add(ServeCommand.Create(io));
        root.Subcommands.Add(StoreCommand.Create(io));
        root.Subcommands.Add(CompletionCommand.Create(io));
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !args.Any(a => a is "--help" or "-h" or "-?"))
        {
            // One line per error, no help dump: the line names the flag, the value and what is accepted.
            foreach (string line in ParseErrors.Describe(parsed).Distinct(StringComparer.Ordinal))
            {
                error.WriteLine($"liber: {line}");
            }

            return UserError;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            error.WriteLine($"liber: {e.Message}");
            return UserError;
        }
        catch (Exception e)
        {
            error.WriteLine($"liber: internal error: {e}");
            return InternalError;
        }
    }

    /// <summary>Whether <paramref name="e"/> is a mistake the user can fix (exit 1, one line) rather than a bug.</summary>
    public static bool IsUserError(Exception e) =>
        e is DataFormatException or Liber.Core.Storage.StoreException or ArgumentException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
            or Liber.Models.Training.CheckpointException or UserErrorException;
}

/// <summary>A mistake of the user's that no other exception type names (a port in use, a conflicting flag): exit 1, its message alone.</summary>
public sealed class UserErrorException : Exception
{
    /// <summary>Creates the error.</summary>
    public UserErrorException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with its cause.</summary>
    public UserErrorException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates an error without a message (for serializers).</summary>
    public UserErrorException()
    {
    }
}

/// <summary>The output streams a command writes to.</summary>
public sealed record CommandIo(TextWriter Output, TextWriter Error);
