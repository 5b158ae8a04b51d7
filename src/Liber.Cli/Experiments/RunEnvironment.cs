using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Liber.Models;

namespace Liber.Cli.Experiments;

/// <summary>Where a run ran: written to <c>environment.json</c> beside its results.</summary>
public sealed record RunEnvironment
{
    /// <summary>Operating system.</summary>
    [JsonPropertyName("os")] public required string Os { get; init; }

    /// <summary>CPU model.</summary>
    [JsonPropertyName("cpu")] public required string Cpu { get; init; }

    /// <summary>Logical cores.</summary>
    [JsonPropertyName("cores")] public int Cores { get; init; }

    /// <summary>Memory available to the process, GiB.</summary>
    [JsonPropertyName("memory_gib")] public double MemoryGib { get; init; }

    /// <summary>.NET runtime.</summary>
    [JsonPropertyName("dotnet")] public required string DotNet { get; init; }

    /// <summary>TorchSharp assembly version.</summary>
    [JsonPropertyName("torchsharp")] public required string TorchSharp { get; init; }

    /// <summary>libtorch package.</summary>
    [JsonPropertyName("libtorch")] public required string LibTorch { get; init; }

    /// <summary>Git commit of the working folder (with +dirty when it has changes), or null outside a repository.</summary>
    [JsonPropertyName("git_commit")] public string? GitCommit { get; init; }

    /// <summary>When it was captured.</summary>
    [JsonPropertyName("captured_at")] public required string CapturedAt { get; init; }

    /// <summary>Captures this machine.</summary>
    public static RunEnvironment Capture() => new()
    {
        Os = RuntimeInformation.OSDescription,
        Cpu = CpuModel(),
        Cores = Environment.ProcessorCount,
        MemoryGib = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (double)(1L << 30), 1),
        DotNet = RuntimeInformation.FrameworkDescription,
        TorchSharp = TorchRuntime.TorchSharpVersion,
        LibTorch = "libtorch-cpu-linux-x64 2.10.0",
        GitCommit = Git(),
        CapturedAt = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string CpuModel()
    {
        try
        {
            string? line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
            return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string? Git()
    {
        try
        {
            string? head = RunGit("rev-parse HEAD");
            if (head is null)
            {
                return null;
            }

            string? status = RunGit("status --porcelain --untracked-files=no");
            return string.IsNullOrEmpty(status) ? head : head + "+dirty";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static string? RunGit(string args)
    {
        var psi = new ProcessStartInfo("git", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using Process? p = Process.Start(psi);
        if (p is null)
        {
            return null;
        }

        string text = p.StandardOutput.ReadToEnd().Trim();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? text : null;
    }
}
