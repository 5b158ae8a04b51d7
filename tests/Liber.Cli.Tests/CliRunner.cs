namespace Liber.Cli.Tests;

/// <summary>Runs the liber command in-process and captures its output.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = LiberCommand.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs the real binary in a child process (what a user sees on both streams, logs included), killed after <paramref name="timeout"/>.</summary>
    public static (int Code, string Out, string Err) Binary(TimeSpan timeout, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "liber.dll"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("LIBER_API_KEY");
        using var p = System.Diagnostics.Process.Start(psi)!;
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        Task<string> error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, output.Result, error.Result + $"\n(killed after {timeout.TotalSeconds} s)");
        }

        return (p.ExitCode, output.Result, error.Result);
    }

    /// <summary>Writes a csv data set whose user ids are strings (c1, c2, ...) and item ids i1, i2, ...; returns its folder.</summary>
    public static string StringIdCsv(string dir, int users = 8, int eventsPerUser = 30)
    {
        var rng = new Random(7);
        var lines = new List<string> { "user_id,item_id,timestamp,rating" };
        for (int u = 1; u <= users; u++)
        {
            for (int e = 0; e < eventsPerUser; e++)
            {
                lines.Add($"c{u},i{rng.Next(1, 25)},{1_000_000 + (u * 10_000) + (e * 60)},{rng.Next(1, 6)}");
            }
        }

        File.WriteAllLines(Path.Combine(dir, "events.csv"), lines);
        return dir;
    }

    /// <summary>The shared data sets folder (../shared/datasets beside the checkout), or null.</summary>
    public static string? SharedDatasets()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "datasets");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A fact that needs ../shared/datasets; reported as skipped, with the reason, where it is absent.</summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (CliRunner.SharedDatasets() is null)
        {
            Skip = "../shared/datasets not found beside the checkout: real-data test skipped";
        }
    }
}
