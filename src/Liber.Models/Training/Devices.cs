using static TorchSharp.torch;

namespace Liber.Models.Training;

/// <summary>Resolves <c>--device cpu|cuda</c>.</summary>
public static class Devices
{
    /// <summary>The CUDA libtorch package matching TorchSharp 0.107 (libtorch 2.10).</summary>
    public const string CudaPackage = "libtorch-cuda-12.8-linux-x64";

    /// <summary>The device of a name; cuda fails with the package to install when CUDA is not available.</summary>
    public static Device Resolve(string name)
    {
        switch (name.ToLowerInvariant())
        {
            case "cpu":
                return CPU;
            case "cuda":
                if (!cuda.is_available())
                {
                    throw new ArgumentException(
                        $"--device cuda: CUDA is not available to TorchSharp in this process (only the CPU libtorch is installed, or no GPU/driver is visible). " +
                        $"Reference the NuGet package {CudaPackage} (same version line as TorchSharp 0.107 / libtorch 2.10) instead of libtorch-cpu-linux-x64, run on a machine with an NVIDIA driver, or use --device cpu.");
                }

                return CUDA;
            default:
                throw new ArgumentException($"unknown device '{name}'; use cpu or cuda");
        }
    }
}
