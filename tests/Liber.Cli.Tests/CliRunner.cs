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
