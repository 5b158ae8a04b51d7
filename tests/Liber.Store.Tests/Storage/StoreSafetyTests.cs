using System.Security.Cryptography;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Tests.Readers;
using Microsoft.Data.Sqlite;

namespace Liber.Store.Tests;

/// <summary>One owner per store, clear refusals of files that are not stores, rebuilding a store whose log does not replay, and event-id conflicts.</summary>
public sealed class StoreSafetyTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private sealed class LengthTokens : ITokenCounter
    {
        public string Name => "length";

        public int Count(string text) => text.Length / 4;
    }

    private string File => _dir.File("twin.db");

    private SqlitePartitionStore Open(string? file = null) =>
        SqlitePartitionStore.OpenServing(file ?? File, new CountPolicy(3), new PartitionCaps { MaxEvents = 100, MaxPromptTokens = 4000 }, new LengthTokens(), new SqliteStoreOptions { Durability = Durability.Normal });

    private static ExternalEvent[] Events(string user, int from, int count, long idBase = 0) =>
        [.. Enumerable.Range(from, count).Select(i => new ExternalEvent(idBase + i, user, $"i{i % 4}", 100 + i, i % 5))];

    private static void Sql(string file, string sql)
    {
        using var db = new SqliteConnection($"Data Source={file};Pooling=False");
        db.Open();
        using SqliteCommand c = db.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    private static int Total(AppendResult r) => r.Applied + r.Duplicates + r.Conflicts.Count + r.Rejected.Count;

    [Fact]
    public async Task A_second_open_of_a_store_fails_at_once_naming_the_file_and_the_owner_and_opens_once_the_first_is_closed()
    {
        using (SqlitePartitionStore first = Open())
        {
            await first.AppendAsync(Events("alice", 0, 4));
            var e = Assert.Throws<StoreException>(() => Open());
            Assert.Equal(StoreProblem.InUse, e.Problem);
            Assert.StartsWith($"store {File} is in use by this process (another open of it: process {Environment.ProcessId} (", e.Message, StringComparison.Ordinal);
            Assert.Contains("stop it or use another --store", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);

            // A fixed-catalog open (liber partition --store) is refused the same way; the owner still works: WAL, its reader connection.
            Assert.Throws<StoreException>(() => SqlitePartitionStore.Open(File, new CountPolicy(3), new PartitionCaps { MaxEvents = 100, MaxPromptTokens = 4000 }, ItemFeatures.Build(first.CatalogSnapshot(), new LengthTokens())));
            AppendResult more = await first.AppendAsync(Events("alice", 4, 2));
            Assert.Equal(2, more.Applied);
            Assert.Equal(2, first.Jobs(0).Count);
            Assert.Equal(6, first.Totals().EventsApplied);
            using var probe = new SqliteConnection($"Data Source={File};Mode=ReadOnly;Pooling=False");
            probe.Open();
            using SqliteCommand c = probe.CreateCommand();
            c.CommandText = "PRAGMA journal_mode";
            Assert.Equal("wal", c.ExecuteScalar());
            StoreInfo info = StoreRebuild.Inspect(File);
            Assert.StartsWith($"process {Environment.ProcessId} (", info.Owner, StringComparison.Ordinal);
            Assert.Equal(6, info.Events);
        }

        using (SqlitePartitionStore again = Open())
        {
            Assert.Equal(6, again.Totals().EventsApplied);
            again.CloseWithoutCheckpoint(); // as a crash: the OS lock goes with the handle
        }

        // A left-over lock file (of a dead owner) does not block, whatever it says.
        await System.IO.File.WriteAllTextAsync(File + ".lock", "process 999999 (liber serve, host gone, started 2001-01-01 00:00:00Z)\n");
        using (SqlitePartitionStore third = Open())
        {
            Assert.Equal(6, third.Totals().EventsApplied);
        }

        Assert.Null(StoreRebuild.Inspect(File).Owner);
    }

    [Fact]
    public async Task A_file_that_is_not_a_store_is_refused_with_one_line_and_left_as_it_was()
    {
        string notes = _dir.Write("notes.txt", "shopping list\nmilk\neggs\n" + new string('x', 5000));
        byte[] before = System.IO.File.ReadAllBytes(notes);
        var e = Assert.Throws<StoreException>(() => Open(notes));
        Assert.Equal(StoreProblem.NotAStore, e.Problem);
        Assert.Equal($"store {notes} is not a Liber store (not an SQLite database): give a new file name or an existing store", e.Message);
        Assert.Equal(before, System.IO.File.ReadAllBytes(notes));
        Assert.False(System.IO.File.Exists(notes + ".lock"));

        // A truncated store: the SQLite header survives, the rest does not.
        using (SqlitePartitionStore s = Open())
        {
            await s.AppendAsync(Events("alice", 0, 30));
        }

        byte[] whole = System.IO.File.ReadAllBytes(File);
        string truncated = _dir.WriteBytes("truncated.db", whole[..Math.Min(whole.Length, 3000)]);
        Assert.Equal(StoreProblem.NotAStore, Assert.Throws<StoreException>(() => Open(truncated)).Problem);
        string garbage = _dir.WriteBytes("garbage.db", [.. Enumerable.Range(0, 8192).Select(i => (byte)(i * 7919 % 251))]);
        Assert.Contains("not an SQLite database", Assert.Throws<StoreException>(() => Open(garbage)).Message, StringComparison.Ordinal);

        // Another program's SQLite database is not taken over.
        string other = _dir.File("other.db");
        Sql(other, "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT)");
        var o = Assert.Throws<StoreException>(() => Open(other));
        Assert.Contains("not a Liber store (an SQLite database with 1 other tables and no Liber schema)", o.Message, StringComparison.Ordinal);
        Sql(other, "SELECT 1"); // still readable
        using var db = new SqliteConnection($"Data Source={other};Pooling=False");
        db.Open();
        using SqliteCommand c = db.CreateCommand();
        c.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'";
        Assert.Equal(1L, c.ExecuteScalar());
    }

    [Fact]
    public async Task An_event_id_sent_again_with_other_content_is_a_conflict_in_one_batch_across_batches_and_after_recovery()
    {
        using (SqlitePartitionStore s = Open())
        {
            var first = new ExternalEvent(7, "alice", "i1", 100, 4);
            AppendResult one = await s.AppendAsync([first, first, first with { Item = "i2" }, first with { Timestamp = 101 }, new ExternalEvent(8, "alice", "i1", 102, 3)]);
            Assert.Equal((2, 1, 2, 0), (one.Applied, one.Duplicates, one.Conflicts.Count, one.Rejected.Count));
            Assert.Equal([2, 3], one.Conflicts.Select(c => c.Index));
            Assert.Equal("event id 7 was already applied as (user 'alice', item 'i1', at 100, rating 4); this one is (user 'alice', item 'i2', at 100, rating 4): an event id names one event, so other content needs a new id", one.Conflicts[0].Reason);

            // Batches in flight together (one group commit or several): each counted once, the first content kept.
            Task<AppendResult>[] inFlight =
            [
                s.AppendAsync([new ExternalEvent(9, "bob", "i1", 200, 5)]),
                s.AppendAsync([new ExternalEvent(9, "bob", "i1", 200, 2), new ExternalEvent(9, "bob", "i1", 200, 5)]),
                s.AppendAsync([new ExternalEvent(9, "carol", "i1", 200, 5), first]),
            ];
            AppendResult[] group = await Task.WhenAll(inFlight);
            Assert.Equal((1, 0, 0), (group[0].Applied, group[0].Duplicates, group[0].Conflicts.Count));
            Assert.Equal((0, 1, 1), (group[1].Applied, group[1].Duplicates, group[1].Conflicts.Count));
            Assert.Contains("(user 'bob', item 'i1', at 200, rating 5); this one is (user 'bob', item 'i1', at 200, rating 2)", group[1].Conflicts[0].Reason, StringComparison.Ordinal);
            Assert.Equal((0, 1, 1), (group[2].Applied, group[2].Duplicates, group[2].Conflicts.Count));
            Assert.Contains("this one is (user 'carol',", group[2].Conflicts[0].Reason, StringComparison.Ordinal);
            Assert.Equal(3, s.Totals().EventsApplied);
            s.CloseWithoutCheckpoint();
        }

        // Recovery rebuilds the fingerprints from the log: duplicates and conflicts are told apart as before.
        using (SqlitePartitionStore s = Open())
        {
            Assert.Equal(3, s.Replayed);
            ExternalEvent[] batch =
            [
                new(7, "alice", "i1", 100, 4), new(7, "alice", "i1", 100, 5), new(8, "dave", "i1", 102, 3), new(9, "bob", "i1", 200, 5), new(10, "alice", "i3", 300, 1), new(11, "alice", "i3", 50, 1),
            ];
            AppendResult r = await s.AppendAsync(batch);
            Assert.Equal(batch.Length, Total(r));
            Assert.Equal((1, 2, 2, 1), (r.Applied, r.Duplicates, r.Conflicts.Count, r.Rejected.Count));
            Assert.Contains("already applied as (user 'alice', item 'i1', at 100, rating 4); this one is (user 'alice', item 'i1', at 100, rating 5)", r.Conflicts[0].Reason, StringComparison.Ordinal);
            Assert.Contains("already applied as (user 'alice', item 'i1', at 102, rating 3); this one is (user 'dave',", r.Conflicts[1].Reason, StringComparison.Ordinal);
            Assert.Empty(s.Verify());
            Assert.Equal([7L, 8, 10], s.Jobs(0).SelectMany(j => j.Partition.EventIds).Concat(s.State(0)!.Cache.Select(e => e.EventId)).Order());
        }
    }

    [Fact]
    public async Task A_log_that_does_not_replay_names_the_external_user_and_the_rebuild_verb_and_rebuilds_into_a_new_file()
    {
        using (SqlitePartitionStore s = Open())
        {
            await s.AppendAsync(Events("bob", 0, 2, idBase: 1000));
            await s.AppendAsync(Events("alice", 0, 10));
            s.CloseWithoutCheckpoint();
        }

        // A second writer appended an older event of alice (dense id 1) after the first one's: the log is out of order.
        Sql(File, "INSERT INTO log(event_id, user, item, ts, rating, late) VALUES (31, 1, 0, 50, 4, 0); INSERT INTO log(event_id, user, item, ts, rating, late) VALUES (32, 1, 1, 400, 4, 0)");
        var e = Assert.Throws<StoreException>(() => Open());
        Assert.Equal(StoreProblem.Unrecoverable, e.Problem);
        Assert.Equal($"store {File} cannot be recovered: replaying its event log, event 31 of user 'alice' at 50 is older than that user's previous logged event at 109 (a log out of order: was the store written by two processes at once?); rebuild it into a new file (the old one is not changed): liber store rebuild --from {File} --to NEW.db", e.Message);
        Assert.False(StoreLock.IsHeld(Path.GetFullPath(File)));

        byte[] before = SHA256.HashData(System.IO.File.ReadAllBytes(File));
        string rebuilt = _dir.File("new.db");
        RebuildReport report = await StoreRebuild.RebuildAsync(File, rebuilt, new LengthTokens(), batchSize: 4);
        Assert.Equal(before, SHA256.HashData(System.IO.File.ReadAllBytes(File)));
        Assert.Equal((14L, 13L, 0L, 0L, 1L), (report.Logged, report.Applied, report.Duplicates, report.Conflicts, report.Rejected));
        Assert.Contains("event 31 of user 'alice' at 50 is older than the user's last event at 109", Assert.Single(report.Reasons), StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => StoreRebuild.RebuildAsync(File, rebuilt, new LengthTokens()));

        using SqlitePartitionStore s2 = Open(rebuilt);
        Assert.Empty(s2.Verify());
        Assert.Equal(0, s2.FindUser("bob"));
        Assert.Equal(1, s2.FindUser("alice"));
        Assert.Equal(4, s2.CatalogCount);
        Assert.Equal(13, s2.Totals().EventsApplied);
        Assert.Equal(11, s2.State(1)!.NextIndex);
        Assert.Equal("count(k=3) max_events=100 max_prompt_tokens=4000 tokenizer=length", s2.Policy);
        Assert.Equal(3, s2.Jobs(1).Count);
    }

    [Fact]
    public void Every_policy_description_reads_back_to_the_same_policy()
    {
        IPartitionPolicy[] policies = [new CountPolicy(7), new GapPolicy(90), new WindowPolicy(CalendarPeriod.Month, "Europe/Paris"), new DriftPolicy(4, 0.2, 0.25)];
        foreach (IPartitionPolicy p in policies)
        {
            string described = $"{p.Describe()} max_events=50 max_prompt_tokens=900 tokenizer=cl100k_base";
            (IPartitionPolicy back, PartitionCaps caps, string tokenizer) = StoreRebuild.ParsePolicy("x.db", described);
            Assert.Equal(p, back);
            Assert.Equal((50, 900, "cl100k_base"), (caps.MaxEvents, caps.MaxPromptTokens, tokenizer));
        }

        Assert.Equal(StoreProblem.NotAStore, Assert.Throws<StoreException>(() => StoreRebuild.ParsePolicy("x.db", "magic(z=1) max_events=1 max_prompt_tokens=1 tokenizer=t")).Problem);
    }
}
