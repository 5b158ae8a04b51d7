using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Core.Synthetic;

namespace Liber.Interests.Tests;

/// <summary>A small synthetic world with count-20 partitions, shared by the tests (built once).</summary>
public sealed class World
{
    private static readonly Lazy<World> Small = new(() => new World(new SyntheticOptions { Seed = 7, Users = 40, Items = 400, MeanEvents = 120 }));

    private World(SyntheticOptions options)
    {
        Synthetic = SyntheticWorld.Generate(options);
        Streams = UserStreams.Build(Synthetic.Dataset);
        Features = ItemFeatures.Build(Synthetic.Dataset, new Cl100kTokenCounter());
        Partitions = PartitionSet.Build(Streams, PartitionPolicies.Create(new PartitionOptions { K = 20 }), new PartitionCaps(), Features);
    }

    public static World Shared => Small.Value;

    public SyntheticWorld Synthetic { get; }

    public UserStreams Streams { get; }

    public ItemFeatures Features { get; }

    public PartitionSet Partitions { get; }

    /// <summary>A set holding only the first <paramref name="users"/> users' partitions (others get none).</summary>
    public PartitionSet FirstUsers(int users)
    {
        var byUser = Enumerable.Range(0, Partitions.UserCount)
            .Select(u => u < users ? (IReadOnlyList<Partition>)Partitions.Of(u).ToArray() : [])
            .ToList();
        return PartitionSet.FromUsers(byUser, Partitions.CacheSizes, Partitions.Policy);
    }
}
