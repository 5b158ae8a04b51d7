using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>What <see cref="StoreRebuild.Inspect"/> reads from a store file without opening it for writing.</summary>
/// <param name="Path">The store file.</param>
/// <param name="Policy">Policy, caps and tokenizer the store was created with.</param>
/// <param name="Users">Users in the log.</param>
/// <param name="Events">Events in the log.</param>
/// <param name="Partitions">Closed partitions.</param>
/// <param name="PendingJobs">Interest jobs pending.</param>
/// <param name="FailedJobs">Interest jobs given up.</param>
/// <param name="Items">Items in the catalog (0 for a store filled from a data set).</param>
/// <param name="Owner">The process holding the store's lock now, or null when none does.</param>
public sealed record StoreInfo(string Path, string Policy, long Users, long Events, long Partitions, long PendingJobs, long FailedJobs, long Items, string? Owner);

/// <summary>The outcome of <see cref="StoreRebuild.RebuildAsync"/>.</summary>
/// <param name="From">The old store.</param>
/// <param name="To">The new store.</param>
/// <param name="Logged">Events in the old store's log.</param>
/// <param name="Applied">Events applied to the new store.</param>
/// <param name="Duplicates">Events logged twice with the same content.</param>
/// <param name="Conflicts">Event ids logged twice with other content (the first kept).</param>
/// <param name="Rejected">Events the rules refused (e.g. out of time order).</param>
/// <param name="Partitions">Partitions closed in the new store (their interest jobs are pending).</param>
/// <param name="Reasons">The first few reasons for conflicts and rejections.</param>
public sealed record RebuildReport(string From, string To, long Logged, long Applied, long Duplicates, long Conflicts, long Rejected, long Partitions, IReadOnlyList<string> Reasons);

/// <summary>
/// Maintenance of serving stores: reading one's vital numbers, and rebuilding one whose log does not replay into a
/// new file, by replaying the old log (in log order) through the rules of a fresh store with the same policy, caps,
/// catalog and external ids. The old file is only read.
/// </summary>
public static partial class StoreRebuild
{
    /// <summary>Reads a store's policy, counts and lock owner (read-only: works on a store that does not recover, and beside its running owner).</summary>
    public static StoreInfo Inspect(string path)
    {
        string full = CheckExists(path, "--store");
        using SqliteConnection db = OpenReadOnly(path, full);
        string policy = Scalar(db, "SELECT value FROM meta WHERE key = 'policy'") as string ?? "?";
        long N(string sql) => (long)Scalar(db, sql)!;
        string? owner = StoreLock.IsHeld(full) ? StoreLock.RecordedOwner(full) ?? "another process" : null;
        return new StoreInfo(path, policy, N("SELECT COUNT(DISTINCT user) FROM log"), N("SELECT COUNT(*) FROM log"), N("SELECT COUNT(*) FROM partitions"),
            N("SELECT COUNT(*) FROM interest_jobs WHERE status = 0"), N("SELECT COUNT(*) FROM interest_jobs WHERE status = 2"), N("SELECT COUNT(*) FROM items"), owner);
    }

    /// <summary>
    /// Replays the log of the serving store <paramref name="from"/> into the new store <paramref name="to"/>, which
    /// must not exist: same policy and caps (read from the old store), same catalog and external ids; late events
    /// are inserted where the old log marked them late. Holds the old store's lock meanwhile, so no writer runs.
    /// </summary>
    public static async Task<RebuildReport> RebuildAsync(string from, string to, ITokenCounter tokens, int batchSize = 1000, int maxReasons = 5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        string fromFull = CheckExists(from, "--from");
        ArgumentException.ThrowIfNullOrWhiteSpace(to);
        string toFull = System.IO.Path.GetFullPath(to);
        if (File.Exists(toFull) || string.Equals(fromFull, toFull, StringComparison.Ordinal))
        {
            throw new ArgumentException($"--to {to} exists: give a new file name (a rebuild never overwrites a file)");
        }

        using StoreLock owner = StoreLock.Acquire(from, fromFull);
        using SqliteConnection db = OpenReadOnly(from, fromFull);
        string described = Scalar(db, "SELECT value FROM meta WHERE key = 'policy'") as string
            ?? throw new StoreException(StoreProblem.NotAStore, $"store {from} has no policy recorded: it is not a Liber store");
        (IPartitionPolicy policy, PartitionCaps caps, string tokenizer) = ParsePolicy(from, described);
        if (tokenizer != tokens.Name)
        {
            throw new ArgumentException($"store {from} counts tokens with {tokenizer}; this rebuild has {tokens.Name}");
        }

        List<ItemMetadata> items = ReadItems(db);
        long logged = (long)Scalar(db, "SELECT COUNT(*) FROM log")!;
        if (items.Count == 0 && logged > 0)
        {
            throw new ArgumentException($"store {from} was filled by liber partition from a data set (it has no item catalog): rebuild it with liber partition --store NEW.db and the same data set and policy");
        }

        var users = new Dictionary<long, string>();
        using (SqliteCommand c = db.CreateCommand())
        {
            c.CommandText = "SELECT user, external FROM user_ids";
            using SqliteDataReader r = c.ExecuteReader();
            while (r.Read())
            {
                users[r.GetInt64(0)] = r.GetString(1);
            }
        }

        bool anyLate = (long)Scalar(db, "SELECT COUNT(*) FROM log WHERE late <> 0")! > 0;
        var options = new SqliteStoreOptions { Durability = Durability.Normal, LateEvents = anyLate ? LateEventRule.InsertIfCacheSpans : LateEventRule.Reject };
        var reasons = new List<string>();
        long applied = 0, duplicates = 0, conflicts = 0, rejected = 0, partitions = 0;
        using (SqlitePartitionStore store = SqlitePartitionStore.OpenServing(to, policy, caps, tokens, options))
        {
            store.UpsertItems(items);
            using SqliteCommand c = db.CreateCommand();
            c.CommandText = "SELECT event_id, user, item, ts, rating FROM log ORDER BY seq";
            using SqliteDataReader r = c.ExecuteReader();
            var batch = new List<ExternalEvent>(batchSize);
            bool more = true;
            while (more)
            {
                more = r.Read();
                if (more)
                {
                    long user = r.GetInt64(1);
                    int item = r.GetInt32(2);
                    batch.Add(new ExternalEvent(r.GetInt64(0), users.GetValueOrDefault(user) ?? user.ToString(CultureInfo.InvariantCulture),
                        item >= 0 && item < items.Count ? items[item].Id : item.ToString(CultureInfo.InvariantCulture), r.GetInt64(3), r.GetFloat(4)));
                }

                if (batch.Count == batchSize || (!more && batch.Count > 0))
                {
                    AppendResult a = await store.AppendAsync(batch, cancellationToken).ConfigureAwait(false);
                    applied += a.Applied;
                    duplicates += a.Duplicates;
                    conflicts += a.Conflicts.Count;
                    rejected += a.Rejected.Count;
                    partitions += a.Closed.Count;
                    reasons.AddRange(a.Conflicts.Concat(a.Rejected).Take(maxReasons - reasons.Count).Select(x => x.Reason));
                    batch.Clear();
                }
            }

            store.Checkpoint();
        }

        return new RebuildReport(from, to, logged, applied, duplicates, conflicts, rejected, partitions, reasons);
    }

    /// <summary>Reads back the policy, caps and tokenizer of a store's recorded description (the inverse of the store's own description).</summary>
    public static (IPartitionPolicy Policy, PartitionCaps Caps, string Tokenizer) ParsePolicy(string path, string described)
    {
        ArgumentNullException.ThrowIfNull(described);
        Match m = Described().Match(described);
        if (m.Success)
        {
            var args = m.Groups["args"].Value.Split(", ").Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => a.Length > 1 ? a[1] : string.Empty, StringComparer.Ordinal);
            double D(string k) => double.Parse(args[k].Replace(',', '.'), CultureInfo.InvariantCulture);
            try
            {
                IPartitionPolicy? policy = m.Groups["name"].Value switch
                {
                    "count" => new CountPolicy(int.Parse(args["k"], CultureInfo.InvariantCulture)),
                    "gap" => new GapPolicy(long.Parse(args["seconds"], CultureInfo.InvariantCulture)),
                    "window" => new WindowPolicy(Enum.Parse<CalendarPeriod>(args["period"], ignoreCase: true), args["time_zone"]),
                    "drift" => new DriftPolicy(int.Parse(args["window"], CultureInfo.InvariantCulture), D("threshold"), D("smoothing")),
                    _ => null,
                };
                var caps = new PartitionCaps { MaxEvents = int.Parse(m.Groups["events"].Value, CultureInfo.InvariantCulture), MaxPromptTokens = int.Parse(m.Groups["tokens"].Value, CultureInfo.InvariantCulture) };
                if (policy is not null)
                {
                    return (policy, caps, m.Groups["tokenizer"].Value);
                }
            }
            catch (Exception e) when (e is KeyNotFoundException or FormatException or OverflowException or ArgumentException)
            {
                // falls through to the error below
            }
        }

        throw new StoreException(StoreProblem.NotAStore, $"store {path} records a policy this version of liber cannot read back ('{described}')");
    }

    [GeneratedRegex(@"^(?<name>[a-z]+)\((?<args>[^)]*)\) max_events=(?<events>\d+) max_prompt_tokens=(?<tokens>\d+) tokenizer=(?<tokenizer>\S+)$")]
    private static partial Regex Described();

    private static string CheckExists(string path, string flag)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = System.IO.Path.GetFullPath(path);
        return File.Exists(full) ? full : throw new FileNotFoundException($"{flag} {path}: no such store file", path);
    }

    private static SqliteConnection OpenReadOnly(string path, string full)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            db.Open();
            if (Scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'") is not long and > 0
                || Scalar(db, "SELECT value FROM meta WHERE key = 'schema'") is not string schema)
            {
                throw new StoreException(StoreProblem.NotAStore, $"store {path} is not a Liber store (an SQLite database without Liber's schema)");
            }

            if (schema != "2")
            {
                throw new StoreException(StoreProblem.NotAStore, $"store {path} has schema {schema}; this version of liber reads schema 2");
            }

            return db;
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 11 or 26)
        {
            db.Dispose();
            throw new StoreException(StoreProblem.NotAStore, $"store {path} is not a Liber store ({(e.SqliteErrorCode == 26 ? "not an SQLite database" : "a damaged SQLite database")})", e);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    private static object? Scalar(SqliteConnection db, string sql)
    {
        using SqliteCommand c = db.CreateCommand();
        c.CommandText = sql;
        return c.ExecuteScalar();
    }

    private static List<ItemMetadata> ReadItems(SqliteConnection db)
    {
        var items = new List<ItemMetadata>();
        using SqliteCommand c = db.CreateCommand();
        c.CommandText = "SELECT external, title, year, categories, tags, text FROM items ORDER BY item";
        using SqliteDataReader r = c.ExecuteReader();
        while (r.Read())
        {
            items.Add(new ItemMetadata(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetInt32(2),
                JsonSerializer.Deserialize<string[]>(r.GetString(3)) ?? [], JsonSerializer.Deserialize<string[]>(r.GetString(4)) ?? [], r.IsDBNull(5) ? null : r.GetString(5)));
        }

        return items;
    }
}
