using Liber.Knowledge.Probe;

namespace Liber.Knowledge.Tests;

/// <summary>Linear probes on constructed vectors whose answer is known.</summary>
public sealed class VectorProbeTests
{
    private const int N = 600, D = 12, Classes = 4;

    private static (float[][] Vectors, int[] Users, float[] Class, float[] Value) World(bool informative)
    {
        var rng = new Random(5);
        var vectors = new float[N][];
        var users = new int[N];
        var cls = new float[N];
        var value = new float[N];
        for (int i = 0; i < N; i++)
        {
            users[i] = i / 10;                                                  // 60 users, 10 vectors each
            cls[i] = rng.Next(Classes);
            value[i] = (float)rng.NextDouble();
            vectors[i] = new float[D];
            for (int d = 0; d < D; d++)
            {
                vectors[i][d] = (float)(rng.NextDouble() - 0.5) * 0.2f;
            }

            if (informative)
            {
                vectors[i][(int)cls[i]] += 1;                                  // the class as a direction
                vectors[i][Classes] += 2 * value[i];                           // the value along another
            }
        }

        return (vectors, users, cls, value);
    }

    [Fact]
    public void Informative_vectors_are_read_by_the_probe()
    {
        var (x, users, cls, value) = World(informative: true);
        var scores = VectorProbe.Run(x, users, [new ProbeTarget("class", ProbeKind.Class, cls), new ProbeTarget("value", ProbeKind.Value, value)]);
        Assert.Equal("accuracy", scores[0].Metric);
        Assert.True(scores[0].Score > 0.95, $"accuracy {scores[0].Score}");
        Assert.InRange(scores[0].Baseline, 0.1, 0.5);
        Assert.Equal("r2", scores[1].Metric);
        Assert.True(scores[1].Score > 0.9, $"R² {scores[1].Score}");
        Assert.Equal(N, scores[0].TrainRows + scores[0].TestRows);
        Assert.InRange(scores[0].TestRows, 150, 210);                           // 30% of 60 users, 10 vectors each
    }

    [Fact]
    public void Noise_vectors_score_at_the_baseline()
    {
        var (x, users, cls, value) = World(informative: false);
        var scores = VectorProbe.Run(x, users, [new ProbeTarget("class", ProbeKind.Class, cls), new ProbeTarget("value", ProbeKind.Value, value)]);
        Assert.True(scores[0].Score < scores[0].Baseline + 0.1, $"accuracy {scores[0].Score} against the majority's {scores[0].Baseline}");
        Assert.True(scores[1].Score < 0.1, $"R² {scores[1].Score}");
    }

    [Fact]
    public void Missing_values_are_left_out_and_bad_shapes_refused()
    {
        var (x, users, cls, _) = World(informative: true);
        float[] some = [.. cls.Select((c, i) => i % 2 == 0 ? c : float.NaN)];
        ProbeScore s = VectorProbe.Run(x, users, [new ProbeTarget("half", ProbeKind.Class, some)])[0];
        Assert.Equal(N / 2, s.TrainRows + s.TestRows);
        Assert.Throws<ArgumentException>(() => VectorProbe.Run(x, users[..10], [new ProbeTarget("c", ProbeKind.Class, cls)]));
        Assert.Throws<ArgumentException>(() => VectorProbe.Run(x, users, [new ProbeTarget("c", ProbeKind.Class, cls)], testShare: 1));
    }
}
