namespace Liber.Core.Tests;

/// <summary>The shared float comparison accepts what different BLAS kernels produce and nothing more.</summary>
public sealed class ApproxTests
{
    [Fact]
    public void Values_seen_on_intel_and_amd_are_close_where_rounding_to_decimals_was_not()
    {
        // The fused output of one test on an Intel and on an AMD CPU: rounding both to 5 decimals gives 0.16828 and 0.16829.
        Assert.True(Approx.Close(0.168284982, 0.168285012));
        Assert.NotEqual(Math.Round(0.168284982, 5), Math.Round(0.168285012, 5));
        Assert.True(Approx.Close(-0.0732577145f, -0.073257722f));
    }

    [Fact]
    public void Real_differences_fail()
    {
        Assert.False(Approx.Close(0.1683, 0.1682));
        Assert.False(Approx.Close(1000.0, 1000.1));
        Assert.False(Approx.Close(0, 1e-5));
        Assert.False(Approx.Close(double.NaN, 0));
        Assert.True(Approx.Close(double.NaN, double.NaN));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Approx.Equal([1f, 2f], [1f, 2.001f]));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Approx.Equal([1f, 2f], [1f]));
    }
}
