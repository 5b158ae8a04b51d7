using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Tests.Streams;

namespace Liber.Cluster.Tests;

/// <summary>The user grain's append logic without Orleans: accounting, idempotency window, late events, outbox.</summary>
public sealed class UserLedgerTests
{
    private sealed class LengthTokens : ITokenCounter
    {
        public string Name => "length";

        public int Count(string text) => text.Length / 4;
    }

    private static UbspSettings Settings(int k = 3, int recentIds = 4096, LateEventRule late = LateEventRule.Reject)
    {
        // Ten items "0".."9" named by a one-event data set per item.
        Dataset catalog = StreamFixtures.Make([.. Enumerable.Range(0, 10).Select(i => (0L, (long)i, 100L + i, 5f))]);
        return UbspSettings.ForDataset(catalog, new PartitionOptions { Policy = "count", K = k }, new LengthTokens(), late, recentIds);
    }

    private static UserLedger Ledger(UbspSettings settings) => new("alice", settings, new UserGrainState { DenseId = 7 });

    private static UserEvent[] Events(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => new UserEvent(1000 + i, (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture), 100 + i, 1 + (i % 5)))];

    [Fact]
    public void Closed_partitions_equal_the_engine_s_and_wait_in_the_outbox_with_their_events()
    {
        UbspSettings settings = Settings();
        UserLedger ledger = Ledger(settings);
        AppendResult r = ledger.Append(Events(0, 7));
        Assert.Equal(7, r.Applied);
        Assert.Equal(2, r.Closed.Count);

        var engine = new UserPartitioner(7, settings.Policy, settings.Caps, settings.Features);
        Partition[] expected = [.. Events(0, 7).SelectMany(e => engine.Append(new PartitionEvent(e.EventId, settings.FindItem(e.Item)!.Value, e.Timestamp, e.Rating)))];
        Assert.Equal(expected.Select(p => p.ContentHash), r.Closed.Select(p => p.ContentHash));
        Assert.Equal(expected.Select(p => (p.User, p.Start, p.End)), r.Closed.Select(p => (p.User, p.Start, p.End)));
        Assert.Equal(r.Closed, ledger.State.Outbox.Select(c => c.Partition));
        Assert.Equal([1003L, 1004, 1005], ledger.State.Outbox[1].Events.Select(e => e.EventId));
        Assert.Equal(Partition.Hash(ledger.State.Outbox[1].Events), ledger.State.Outbox[1].Partition.ContentHash);
        Assert.Equal([1006L], ledger.State.Cache.Select(e => e.EventId));
        Assert.Equal(1, ledger.Acknowledge(0));
        Assert.Equal(1, ledger.State.Outbox[0].Partition.Number);
    }

    [Fact]
    public void Every_event_is_counted_once_as_applied_duplicate_conflict_or_rejected()
    {
        UserLedger ledger = Ledger(Settings());
        ledger.Append(Events(0, 4));
        UserEvent[] batch =
        [
            Events(1, 1)[0],                                  // duplicate
            Events(2, 1)[0] with { Rating = 1.5f },           // conflict: same id, other rating
            new UserEvent(2000, "nope", 200, 3),              // unknown item
            new UserEvent(2001, "1", 200, float.NaN),         // bad rating
            new UserEvent(2002, "1", 50, 3),                  // late: rejected
            new UserEvent(2003, "2", 300, 3),                 // applied
            new UserEvent(2003, "2", 300, 3),                 // duplicate within the batch
        ];
        AppendResult r = ledger.Append(batch);
        Assert.Equal([5], r.AppliedIndices);
        Assert.Equal(2, r.Duplicates);
        RejectedEvent conflict = Assert.Single(r.Conflicts);
        Assert.Equal(1, conflict.Index);
        Assert.Contains("item 2, at 102, rating 3", conflict.Reason, StringComparison.Ordinal);
        Assert.Contains("rating 1.5", conflict.Reason, StringComparison.Ordinal);
        Assert.Equal([2, 3, 4], r.Rejected.Select(x => x.Index));
        Assert.Contains("not in the catalog", r.Rejected[0].Reason, StringComparison.Ordinal);
        Assert.Contains("late-event rule is reject", r.Rejected[2].Reason, StringComparison.Ordinal);
        Assert.Equal((2L, 1L, 3L), (ledger.State.Duplicates, ledger.State.Conflicts, ledger.State.Rejected));
        Assert.Equal(5, ledger.State.NextIndex);
    }

    [Fact]
    public void An_id_older_than_the_idempotency_window_is_refused_never_applied_twice()
    {
        UserLedger ledger = Ledger(Settings(recentIds: 4));
        ledger.Append(Events(0, 10));
        Assert.Equal(4, ledger.State.Recent.Count);
        Assert.Equal(105, ledger.State.ForgottenThrough);
        AppendResult again = ledger.Append(Events(0, 10));
        Assert.Equal(0, again.Applied);
        Assert.Equal(4, again.Duplicates);
        Assert.Equal(6, again.Rejected.Count);
        Assert.All(again.Rejected, x => Assert.Contains("last 4 event ids", x.Reason, StringComparison.Ordinal));
        Assert.Equal(10, ledger.State.NextIndex);
    }

    [Fact]
    public void A_late_event_joins_the_cache_when_the_rule_allows_and_the_cache_spans_it()
    {
        UserLedger ledger = Ledger(Settings(k: 5, late: LateEventRule.InsertIfCacheSpans));
        ledger.Append(Events(0, 2));
        AppendResult r = ledger.Append([new UserEvent(5000, "3", 100, 2)]);
        Assert.Equal(1, r.Applied);
        Assert.Equal([1000L, 5000, 1001], ledger.State.Cache.Select(e => e.EventId));
    }

    [Fact]
    public void A_state_built_under_another_policy_is_not_resumed()
    {
        var state = new UserGrainState { DenseId = 0 };
        new UserLedger("bob", Settings(k: 3), state).Append(Events(0, 2));
        var other = new UserLedger("bob", Settings(k: 4), state);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => other.Append(Events(2, 1)));
        Assert.Contains("count(k=3)", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, state.NextIndex);
    }
}
