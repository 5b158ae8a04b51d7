using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Tests.Readers;

namespace Liber.Cluster.Tests;

/// <summary>The grain's ledger closes exactly the batch partitions under every policy (ml-100k, 100 users, uneven batches).</summary>
public sealed class PolicyEquivalenceTests
{
    [RealDataTheory("ml-100k")]
    [InlineData("count")]
    [InlineData("gap")]
    [InlineData("window")]
    [InlineData("drift")]
    public void The_ledger_closes_the_batch_partitions_under_every_policy(string policy)
    {
        Ml100kSlice data = ClusterFixture.Data;
        var options = new PartitionOptions { Policy = policy, Caps = new PartitionCaps { MaxEvents = 60, MaxPromptTokens = 900 } };
        var settings = new UbspSettings(PartitionPolicies.Create(options), options.Caps, data.Settings.Features, [.. Enumerable.Range(0, data.Dataset.Items.Count).Select(data.Dataset.Items.External)]);
        PartitionSet offline = PartitionSet.Build(data.Streams, settings.Policy, settings.Caps, settings.Features);
        int total = 0;
        for (int u = 0; u < 100; u++)
        {
            string user = data.Dataset.Users.External(u);
            var ledger = new UserLedger(user, settings, new UserGrainState { DenseId = u });
            UserEvent[] events = [.. data.Traffic(u, u + 1).Select(t => new UserEvent(t.Event.EventId, t.Event.Item, t.Event.Timestamp, t.Event.Rating))];
            var closed = new List<Partition>();
            foreach (UserEvent[] batch in events.Chunk(1 + (u % 13)))
            {
                AppendResult r = ledger.Append(batch);
                Assert.Equal(batch.Length, r.Applied);
                closed.AddRange(r.Closed);
            }

            Assert.Equal([.. offline.Of(u).ToArray().Select(p => (p.User, Ml100kSlice.Key(p)))], closed.Select(p => (p.User, Ml100kSlice.Key(p))));
            Assert.Equal(offline.CacheSizes[u], ledger.State.Cache.Length);
            total += closed.Count;
        }

        Assert.True(total > 100, $"{policy}: only {total} partitions for 100 users");
    }
}

/// <summary>A theory that is reported as skipped when a real data set is absent.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RealDataTheoryAttribute : TheoryAttribute
{
    public RealDataTheoryAttribute(string dataset)
    {
        if (RealData.Folder(dataset) is null)
        {
            Skip = $"{dataset} not found under shared/datasets";
        }
    }
}
