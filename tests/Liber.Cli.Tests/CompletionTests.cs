using System.Diagnostics;

namespace Liber.Cli.Tests;

/// <summary>The completion scripts, run in a real bash against the real binary.</summary>
public sealed class CompletionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-completion-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Completes <paramref name="line"/> in bash with the script of <c>liber completion bash</c>; a <c>liber</c> wrapper on PATH runs the test's binary.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private string[] Complete(string line)
    {
        string wrapper = Path.Combine(_dir, "liber");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec dotnet \"{Path.Combine(AppContext.BaseDirectory, "liber.dll")}\" \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["PATH"] = _dir + ":" + Environment.GetEnvironmentVariable("PATH");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"eval \"$(liber completion bash)\"; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _liber_complete; printf '%s\\n' \"${{COMPREPLY[@]}}\"");
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "bash did not finish");
        Assert.True(p.ExitCode == 0, err.Result);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Bash_completes_verbs_options_and_option_values()
    {
        Assert.Equal(["train"], Complete("liber tr"));
        Assert.Contains("--backbone", Complete("liber train --back"));
        Assert.Contains("deepfm", Complete("liber train --backbone d"));
        Assert.DoesNotContain("train", Complete("liber data "));
    }

    [Theory]
    [InlineData("bash", "complete -o default -F _liber_complete liber")]
    [InlineData("zsh", "bashcompinit")]
    [InlineData("fish", "complete -c liber")]
    public void Every_shell_gets_its_script(string shell, string expected)
    {
        var (code, output, error) = CliRunner.Run(["completion", shell]);
        Assert.True(code == 0, error);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.Contains("[suggest:", output, StringComparison.Ordinal);
        Assert.Equal(1, CliRunner.Run(["completion", "powershell"]).Code);
    }
}
