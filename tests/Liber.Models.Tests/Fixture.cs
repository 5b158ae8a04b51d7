using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Core.Synthetic;
using Liber.Models.Features;
using Liber.Models.Fusion;

namespace Liber.Models.Tests;

/// <summary>A tiny seeded synthetic world, partitioned with count(k=5), and random fixed partition vectors.</summary>
internal static class Fixture
{
    public const int Dimension = 16;

    private static readonly Lazy<(SampleSet Samples, FeatureTables Tables, PartitionSet Partitions)> World = new(() =>
    {
        var world = SyntheticWorld.Generate(new SyntheticOptions { Seed = 5, Users = 24, Items = 80, MeanEvents = 40, MeanRegimeLength = 20 });
        SampleSet samples = SampleSet.Build(UserStreams.Build(world.Dataset), new SampleOptions { HistoryLength = 8 });
        FeatureTables tables = FeatureTables.Build(samples, maxPartitions: 6);
        var features = ItemFeatures.Build(world.Dataset, new OneToken());
        PartitionSet partitions = PartitionSet.Build(samples.Streams, new CountPolicy(5), new PartitionCaps(), features);
        return (samples, tables, partitions);
    });

    public static SampleSet Samples => World.Value.Samples;

    public static FeatureTables Tables => World.Value.Tables;

    public static PartitionSet Partitions => World.Value.Partitions;

    /// <summary>Random partition vectors (seeded), aligned with the partition set.</summary>
    public static PartitionVectors RandomVectors(int seed = 3)
    {
        var r = new Random(seed);
        int n = Partitions.Count * Dimension;
        float[] s = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        float[] h = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        return PartitionVectors.FromPartitions(Partitions, s, h, Dimension);
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "liber-models-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private sealed class OneToken : ITokenCounter
    {
        public string Name => "one";

        public int Count(string text) => 1;
    }
}
