using System.Globalization;
using System.Text;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// Recovery and the idempotency record: the applied-id map is rebuilt from the log on open, and each id keeps its
/// user and a 32-bit fingerprint of its content, so that the same id sent again is told apart as a duplicate (same
/// content: a no-op) or a conflict (other content: never applied) without holding every event in memory.
/// </summary>
public sealed partial class SqlitePartitionStore
{
    /// <summary>The verb that rebuilds a serving store whose log does not replay.</summary>
    private string RebuildHint => _catalogMode
        ? $"rebuild it into a new file (the old one is not changed): liber store rebuild --from {_name} --to NEW.db"
        : $"rebuild it into a new file from its data set: liber partition --store NEW.db with the same data set and policy";

    /// <summary>
    /// Rebuilds the in-memory state from the file: applied ids from the log, engines from the snapshots of the last
    /// checkpoint, then the log after that checkpoint replayed through the engines. Every partition the replay closes
    /// must already be in the store with the same content hash (it was committed with the events that closed it).
    /// A log that does not replay (written out of order, e.g. by two processes at once before stores were locked, or
    /// damaged) is a <see cref="StoreException"/> that names the user by its external id and says how to rebuild.
    /// </summary>
    private void Recover()
    {
        _engines.Clear();
        _dirty.Clear();
        _applied.Clear();
        long checkpoint = long.Parse(StoreRows.GetMeta(_db, null, "checkpoint_seq") ?? "0", CultureInfo.InvariantCulture);
        long replayed = 0;
        using (SqliteCommand c = _db.CreateCommand())
        {
            c.CommandText = "SELECT seq, event_id, user, item, ts, rating, late FROM log ORDER BY seq";
            using SqliteDataReader r = c.ExecuteReader();
            while (r.Read())
            {
                long seq = r.GetInt64(0);
                int user = checked((int)r.GetInt64(2));
                var e = new StoreEvent(user, r.GetInt64(1), r.GetInt32(3), r.GetInt64(4), r.GetFloat(5));
                _applied.TryAdd(e.EventId, AppliedId.Of(e)); // a log written twice over keeps the first content of an id
                _lastSeq = seq;
                if (seq <= checkpoint)
                {
                    continue;
                }

                Replay(e, late: r.GetInt64(6) != 0);
                _dirty.Add(user);
                replayed++;
            }
        }

        Replayed = replayed;
        _sinceCheckpoint = replayed;
    }

    private void Replay(StoreEvent e, bool late)
    {
        UserPartitioner engine = Engine(e.User);
        string at = $"event {e.EventId} of user {UserLabel(e.User)} at {e.Timestamp}";
        if (!late && e.Timestamp < engine.LastTimestamp)
        {
            throw Unrecoverable($"{at} is older than that user's previous logged event at {engine.LastTimestamp} (a log out of order: was the store written by two processes at once?)");
        }

        if (late && !engine.CacheSpans(e.Timestamp))
        {
            throw Unrecoverable($"late {at} no longer fits that user's short-term cache");
        }

        foreach (Partition p in late ? engine.InsertIntoCache(e.ToPartitionEvent()) : engine.Append(e.ToPartitionEvent()))
        {
            _countPartitions.Parameters[0].Value = p.User;
            _countPartitions.Parameters[1].Value = p.Number;
            if (_countPartitions.ExecuteScalar() is not string hash || hash != p.ContentHash)
            {
                throw Unrecoverable($"{at} closes partition {p.Number} of that user other than the stored one (the file is damaged or was written by two processes at once)");
            }
        }
    }

    private StoreException Unrecoverable(string what) =>
        new(StoreProblem.Unrecoverable, $"store {_name} cannot be recovered: replaying its event log, {what}; {RebuildHint}");

    private void ReloadAfterFailure(HashSet<int> touched)
    {
        foreach (int user in touched)
        {
            _engines.Remove(user);
        }

        // Users changed since the last checkpoint live only in memory and the log: rebuild them from the file.
        if (touched.Overlaps(_dirty))
        {
            Recover();
        }
    }

    private static bool SameContent(StoreEvent a, StoreEvent b) =>
        a.User == b.User && a.Item == b.Item && a.Timestamp == b.Timestamp && AppliedId.RatingBits(a.Rating) == AppliedId.RatingBits(b.Rating);

    private string ConflictReason(StoreEvent first, StoreEvent again) =>
        $"event id {again.EventId} was already applied as ({Content(first)}); this one is ({Content(again)}): an event id names one event, so other content needs a new id";

    private string Content(StoreEvent e) =>
        string.Create(CultureInfo.InvariantCulture, $"user {UserLabel(e.User)}, item {ItemLabel(e.Item)}, at {e.Timestamp}, rating {e.Rating}");

    /// <summary>Fills in the reasons of conflicts with ids applied by earlier commits: one read of the log for the whole group (conflicts are rare; the log has no id index, which would slow every append).</summary>
    private void NameConflicts(List<(List<RejectedEvent> List, int At, StoreEvent E)> unnamed, SqliteTransaction tx)
    {
        if (unnamed.Count == 0)
        {
            return;
        }

        var first = new Dictionary<long, StoreEvent>();
        const int PerQuery = 500;
        for (int from = 0; from < unnamed.Count; from += PerQuery)
        {
            var sql = new StringBuilder("SELECT event_id, user, item, ts, rating FROM log WHERE event_id IN (");
            for (int i = from; i < Math.Min(unnamed.Count, from + PerQuery); i++)
            {
                sql.Append(i == from ? string.Empty : ",").Append(unnamed[i].E.EventId.ToString(CultureInfo.InvariantCulture));
            }

            using SqliteCommand c = _db.CreateCommand();
            c.Transaction = tx;
            c.CommandText = sql.Append(") ORDER BY seq").ToString();
            using SqliteDataReader r = c.ExecuteReader();
            while (r.Read())
            {
                first.TryAdd(r.GetInt64(0), new StoreEvent(checked((int)r.GetInt64(1)), r.GetInt64(0), r.GetInt32(2), r.GetInt64(3), r.GetFloat(4)));
            }
        }

        foreach ((List<RejectedEvent> list, int at, StoreEvent e) in unnamed)
        {
            RejectedEvent placeholder = list[at];
            list[at] = placeholder with
            {
                Reason = first.TryGetValue(e.EventId, out StoreEvent f)
                    ? ConflictReason(f, e)
                    : $"event id {e.EventId} was already applied with other content than ({Content(e)}): an event id names one event, so other content needs a new id",
            };
        }
    }

    /// <summary>An applied id's user and a fingerprint of its item, time and rating (8 bytes: the map's entries stay 24 bytes).</summary>
    private readonly record struct AppliedId(int User, int Fingerprint)
    {
        public static AppliedId Of(StoreEvent e) => new(e.User, Print(e.Item, e.Timestamp, e.Rating));

        /// <summary>Rating bits with -0 as 0, so that equal ratings compare equal.</summary>
        public static int RatingBits(float rating) => rating == 0 ? 0 : BitConverter.SingleToInt32Bits(rating);

        public bool Matches(StoreEvent e) => User == e.User && Fingerprint == Print(e.Item, e.Timestamp, e.Rating);

        /// <summary>A splitmix64 finaliser over the content; two contents differ in it except with chance 2^-32 (then a conflict passes as a duplicate: still never applied twice).</summary>
        private static int Print(int item, long timestamp, float rating)
        {
            ulong h = unchecked(((ulong)(uint)item * 0x9E3779B97F4A7C15UL) ^ ((ulong)timestamp * 0xC2B2AE3D27D4EB4FUL) ^ ((ulong)(uint)RatingBits(rating) * 0x165667B19E3779F9UL));
            h = unchecked((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL);
            h = unchecked((h ^ (h >> 27)) * 0x94D049BB133111EBUL);
            return unchecked((int)(h ^ (h >> 31)));
        }
    }
}
