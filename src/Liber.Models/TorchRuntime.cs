using static TorchSharp.torch;

namespace Liber.Models;

/// <summary>
/// Process-wide TorchSharp settings. Seeds and thread counts are global to the process, so training
/// code sets them here once per run; with one thread, training is bit-reproducible.
/// </summary>
public static class TorchRuntime
{
    /// <summary>Sets the intra-op thread count and the global seed.</summary>
    public static void Configure(int threads, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        set_num_threads(threads);
        random.manual_seed(seed);
    }

    /// <summary>TorchSharp's version, for run records.</summary>
    public static string TorchSharpVersion => typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown";
}
