using Liber.Models.Features;
using Liber.Models.Fusion;
using static TorchSharp.torch;

namespace Liber.Models.Tests.Serving;

/// <summary>UIF's fast path for one user's partitions expanded over N candidates gives what the copied batch gives.</summary>
[Collection(TorchCollection.Name)]
public sealed class BroadcastFusionTests
{
    [Theory]
    [InlineData("attention", 3)]
    [InlineData("mean", 0)]
    [InlineData("last", 4)]
    [InlineData("no-shift", 2)]
    public void Expanded_partitions_fuse_exactly_as_copied_ones(string variant, int visible)
    {
        TorchRuntime.Configure(1, 6);
        using var scope = NewDisposeScope();
        using var uif = new Uif(new FusionOptions { Variant = FusionVariant.Parse(variant), InputSize = 5, MaxPartitions = 4 }, targetWidth: 7);
        int b = 9, p = 4, d = 5;
        var mask = new bool[p];
        var ranks = new long[p];
        for (int j = 0; j < p; j++)
        {
            mask[j] = j < visible;
            ranks[j] = j < visible ? visible - 1 - j : p;
        }

        Tensor m = tensor(mask, 1, p);
        Tensor s = randn(1, p, d) * m.unsqueeze(-1), h = randn(1, p, d) * m.unsqueeze(-1), r = tensor(ranks, 1, p);
        Tensor shiftMask = m.clone();
        shiftMask[0, 0] = false;
        Tensor target = randn(b, 7);
        var expanded = new LiberInput { Summaries = s.expand(b, p, d), Shifts = h.expand(b, p, d), ShiftMask = shiftMask.expand(b, p), Mask = m.expand(b, p), Ranks = r.expand(b, p) };
        var copied = new LiberInput
        {
            Summaries = s.expand(b, p, d).contiguous(),
            Shifts = h.expand(b, p, d).contiguous(),
            ShiftMask = shiftMask.expand(b, p).contiguous(),
            Mask = m.expand(b, p).contiguous(),
            Ranks = r.expand(b, p).contiguous(),
        };
        Assert.Equal(0, expanded.Summaries!.stride(0));
        Assert.NotEqual(0, copied.Summaries!.stride(0));
        float[] fast = uif.call(expanded, target).data<float>().ToArray();
        float[] slow = uif.call(copied, target).data<float>().ToArray();
        Assert.Equal(b * 32, fast.Length);
        Approx.Equal(slow, fast);
        Approx.Equal(uif.Weights(copied, target).data<float>().ToArray(), uif.Weights(expanded, target).data<float>().ToArray());
    }
}
