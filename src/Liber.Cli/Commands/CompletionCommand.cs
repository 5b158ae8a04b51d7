using System.CommandLine;

namespace Liber.Cli.Commands;

/// <summary>
/// <c>liber completion bash|zsh|fish</c>: prints a shell completion script. The script asks <c>liber</c> itself for the
/// candidates through System.CommandLine's <c>[suggest:N]</c> directive, so verbs, options and option values
/// (e.g. <c>--backbone</c>'s names) complete from the same definitions the parser uses; nothing is kept in two places.
/// </summary>
public static class CompletionCommand
{
    /// <summary>The shells a script is printed for.</summary>
    public static IReadOnlyList<string> Shells { get; } = ["bash", "zsh", "fish"];

    /// <summary>Creates the <c>completion</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("completion", "print a shell completion script: eval \"$(liber completion bash)\" in ~/.bashrc (zsh: ~/.zshrc; fish: liber completion fish | source)");
        var shell = new Argument<string>("shell") { Description = "bash, zsh or fish" };
        shell.AcceptOnlyFromAmong([.. Shells]);
        cmd.Arguments.Add(shell);
        cmd.SetAction(r =>
        {
            io.Output.Write(Script(r.GetValue(shell)!));
            return LiberCommand.Ok;
        });
        return cmd;
    }

    /// <summary>The completion script of a shell.</summary>
    public static string Script(string shell) => shell switch
    {
        "bash" => Bash,
        "zsh" => "autoload -U +X bashcompinit && bashcompinit\n" + Bash,
        "fish" => """
            # liber completion for fish: liber completion fish | source
            function __liber_complete
                set -l line (commandline -cp)
                liber "[suggest:"(string length -- $line)"]" "$line" 2>/dev/null
            end
            complete -c liber -f -a '(__liber_complete)'

            """,
        _ => throw new ArgumentException($"shell '{shell}' is not one of {string.Join(", ", Shells)}"),
    };

    private const string Bash = """
        # liber completion for bash: eval "$(liber completion bash)"
        _liber_complete() {
            local IFS=$'\n'
            local line="${COMP_LINE:0:$COMP_POINT}"
            COMPREPLY=($(liber "[suggest:${#line}]" "$line" 2>/dev/null))
        }
        complete -o default -F _liber_complete liber

        """;
}
