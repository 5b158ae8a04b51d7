using Xunit;
using Xunit.Sdk;

namespace Liber.Testing;

/// <summary>
/// Float comparisons that hold on any x64 CPU: BLAS kernels (MKL on Intel, other paths on AMD) and shapes change the
/// order of additions, so results agree to a few ULPs, not bit for bit. |actual - expected| must be within
/// <c>abs + rel * max(|actual|, |expected|)</c>. xUnit's <c>Assert.Equal(x, y, precision)</c> rounds both values to N
/// decimals and compares the rounded values, which fails for 0.168284982 against 0.168285012; never use it here.
/// </summary>
public static class Approx
{
    /// <summary>Default relative tolerance: about 80 float ULPs.</summary>
    public const double Rel = 1e-5;

    /// <summary>Default absolute tolerance, for values near zero.</summary>
    public const double Abs = 1e-6;

    /// <summary>True when <paramref name="actual"/> is within tolerance of <paramref name="expected"/> (NaN equals only NaN).</summary>
    public static bool Close(double expected, double actual, double rel = Rel, double abs = Abs)
    {
        if (double.IsNaN(expected) || double.IsNaN(actual))
        {
            return double.IsNaN(expected) && double.IsNaN(actual);
        }

        if (double.IsInfinity(expected) || double.IsInfinity(actual))
        {
            return expected.Equals(actual);
        }

        return Math.Abs(actual - expected) <= abs + rel * Math.Max(Math.Abs(actual), Math.Abs(expected));
    }

    /// <summary>Asserts that two numbers agree within tolerance.</summary>
    public static void Equal(double expected, double actual, double rel = Rel, double abs = Abs, string? what = null)
    {
        if (!Close(expected, actual, rel, abs))
        {
            throw new XunitException($"{what ?? "value"}: expected {expected:R}, got {actual:R} (difference {Math.Abs(actual - expected):G3}; tolerance {abs:G3} + {rel:G3} relative)");
        }
    }

    /// <summary>Asserts that two float sequences have the same length and agree element-wise within tolerance.</summary>
    public static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rel = Rel, double abs = Abs, string? what = null)
    {
        Assert.True(expected.Length == actual.Length, $"{what ?? "values"}: expected {expected.Length} values, got {actual.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            if (!Close(expected[i], actual[i], rel, abs))
            {
                throw new XunitException($"{what ?? "values"}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (difference {Math.Abs(actual[i] - expected[i]):G3}; tolerance {abs:G3} + {rel:G3} relative)");
            }
        }
    }
}
