using System.Diagnostics;
using System.Text.Json;

namespace Liber.Cli.Tests;

/// <summary>The real <c>liber</c> binary in a child process: help, exit codes and messages.</summary>
public sealed class BinaryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-bin-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Liber(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "liber.dll"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    [Fact]
    public void Every_verb_has_help()
    {
        var (code, output, _) = Liber("--help");
        Assert.Equal(0, code);
        string[] verbs = ["data", "partition", "learn", "encode", "train", "evaluate", "run", "report", "demo", "bench"];
        foreach (string verb in verbs)
        {
            Assert.Contains(verb, output, StringComparison.Ordinal);
            var (c, o, e) = Liber(verb, "--help");
            Assert.True(c == 0, $"{verb} --help: {e}");
            Assert.Contains("Usage", o, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void User_errors_exit_1_with_a_one_line_message_naming_what_to_fix()
    {
        var (code, _, error) = Liber("data", "stats", "--dataset", "movielens-100k", "--path", Path.Combine(_dir, "missing"));
        Assert.Equal(1, code);
        Assert.Contains("missing", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));

        string config = Path.Combine(_dir, "bad.json");
        File.WriteAllText(config, """{"name":"x","dataset":{"kind":"synthetic"},"grid":{"backbones":["din"]},"trainning":{}}""");
        (code, _, error) = Liber("run", "--config", config);
        Assert.Equal(1, code);
        Assert.Contains("$.trainning", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_from_train_evaluates_to_the_same_test_metrics()
    {
        string ckpt = Path.Combine(_dir, "ckpt");
        string[] data = ["--users", "30", "--events-per-user", "40"];
        var (code, output, error) = CliRunner.Run(["train", .. data, "--backbone", "deepfm", "--epochs", "2", "--checkpoint", ckpt, "--json"]);
        Assert.True(code == 0, error);
        double auc = JsonDocument.Parse(output).RootElement.GetProperty("test").GetProperty("auc").GetDouble();

        (code, output, error) = CliRunner.Run(["evaluate", .. data, "--checkpoint", ckpt, "--split", "test", "--json"]);
        Assert.True(code == 0, error);
        Approx.Equal(auc, JsonDocument.Parse(output).RootElement.GetProperty("metrics").GetProperty("auc").GetDouble());

        // Another data set does not fit the checkpoint's feature map.
        (code, _, error) = CliRunner.Run(["evaluate", "--users", "31", "--events-per-user", "40", "--checkpoint", ckpt]);
        Assert.Equal(1, code);
        Assert.Contains("feature maps differ", error, StringComparison.Ordinal);
        Assert.Equal(1, CliRunner.Run(["evaluate", .. data, "--checkpoint", Path.Combine(_dir, "none")]).Code);
    }
}
