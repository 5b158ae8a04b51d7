using System.Globalization;
using System.Threading.Channels;
using Liber.Core.Data;
using Liber.Core.Streams;
using Npgsql;
using NpgsqlTypes;

namespace Liber.Cluster.Postgres;

/// <summary>
/// The cluster's shared point-in-time statistics in PostgreSQL (<c>liber_stats_*</c>): the user grains count each applied
/// event once (<see cref="IStatsSink"/>), and any silo reads a candidate's 8 values from the counters
/// (<see cref="IStatsSource"/>) with the arithmetic of training and of the single-process service
/// (<see cref="PointInTimeStats.Row(StatCount, StatCount, StatCount, StatCount, RatingScale, StatsOptions?)"/>). Whether a cluster counts statistics, and under which rating scale (the positive
/// threshold), is fixed when its first silo opens the database (<see cref="Claim"/>): a silo started otherwise is refused,
/// so the counters are never a mix. Counts are group-committed by one writer per instance (one per silo); reads take a
/// pooled connection each. Thread-safe; dispose it before its data source.
/// </summary>
public sealed class PostgresStats : IStatsSink, IStatsSource, IDisposable
{
    /// <summary>Shards of the all-users counter (a group's count goes to a random one; a read sums them).</summary>
    public const int GlobalShards = 16;

    /// <summary>The most grain counts one transaction takes.</summary>
    public const int MaxGroup = 256;

    private readonly Channel<CountRequest> _queue = Channel.CreateUnbounded<CountRequest>(new() { SingleReader = true });
    private readonly Task _writer;

    private readonly NpgsqlDataSource _db;
    private readonly RatingScale _scale;
    private readonly float _threshold;
    private readonly StatsOptions _options;
    private readonly string[] _itemIds;
    private readonly string[][] _itemCategories;

    /// <summary>
    /// Counts and reads in <paramref name="db"/> (Liber's tables created) under <paramref name="scale"/> (positive: rating
    /// at or above its default threshold); <paramref name="catalog"/> lists the cluster's items by dense id. Claims the
    /// database for statistics under this scale, or throws when it was claimed otherwise.
    /// </summary>
    public PostgresStats(NpgsqlDataSource db, RatingScale scale, IReadOnlyList<Item> catalog, StatsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(catalog);
        _db = db;
        _scale = scale;
        _threshold = scale.DefaultThreshold;
        _options = options ?? new StatsOptions();
        _options.Validate();
        _itemIds = [.. catalog.Select(i => i.ExternalId)];
        _itemCategories = [.. catalog.Select(i => Keys(i.Categories))];
        Claim(db, this);
        _writer = Task.Run(WriterLoop, CancellationToken.None);
    }

    /// <summary>The rating scale the counters were counted under.</summary>
    public RatingScale Scale => _scale;

    /// <summary>
    /// Records, on the first call for a database, whether its cluster counts statistics (<paramref name="stats"/> non-null)
    /// and under which scale; later calls must agree, else <see cref="InvalidOperationException"/> naming both settings.
    /// </summary>
    public static void Claim(NpgsqlDataSource db, PostgresStats? stats)
    {
        ArgumentNullException.ThrowIfNull(db);
        string mine = stats is null ? "off" : string.Create(CultureInfo.InvariantCulture, $"on, rating scale {stats._scale.Min}:{stats._scale.Max}{(stats._scale.Step is float s ? $":{s}" : "")}, positive at >= {stats._threshold}");
        using NpgsqlConnection c = db.OpenConnection();
        using (var insert = new NpgsqlCommand("INSERT INTO liber_meta(key, value) VALUES ('statistics', @v) ON CONFLICT (key) DO NOTHING", c))
        {
            insert.Parameters.AddWithValue("v", mine);
            insert.ExecuteNonQuery();
        }

        using var read = new NpgsqlCommand("SELECT value FROM liber_meta WHERE key = 'statistics'", c);
        string found = read.ExecuteScalar() as string ?? mine;
        if (found != mine)
        {
            throw new InvalidOperationException(
                $"database {c.Database}: this cluster's point-in-time statistics are '{found}', fixed when its first silo started; this silo would count them '{mine}'. " +
                (found == "off"
                    ? "Its events were ingested without counting them: serve --stats off checkpoints (\"statistics\": false in the cluster file; LIBER_CLUSTER_STATISTICS=false for build/cluster-up.sh), or start a new cluster on an empty database"
                    : "Every silo must use the same \"statistics\" setting and rating scale (--rating-scale, --dataset)"));
        }
    }

    /// <summary>
    /// Queues the count for the silo's group commit and completes when its transaction has committed (so an acknowledged
    /// batch is counted): counts queued while a transaction runs are taken together, at most <see cref="MaxGroup"/>, in
    /// one transaction and one commit. A count that would leave a gap fails alone; a failed transaction fails its group
    /// (the grains' resends count again, and what was committed is skipped).
    /// </summary>
    public Task CountAsync(string user, int fromIndex, IReadOnlyList<StatEvent> events)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentOutOfRangeException.ThrowIfNegative(fromIndex);
        foreach (StatEvent e in events)
        {
            if ((uint)e.Item >= (uint)_itemIds.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(events), e.Item, $"item {e.Item} is not in the catalog ({_itemIds.Length} items)");
            }
        }

        if (events.Count == 0)
        {
            return Task.CompletedTask;
        }

        var request = new CountRequest(user, fromIndex, [.. events], new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return _queue.Writer.TryWrite(request) ? request.Done.Task : throw new ObjectDisposedException(nameof(PostgresStats));
    }

    /// <summary>Stops taking counts and waits for the queued ones to commit.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _writer.GetAwaiter().GetResult();
    }

    private async Task WriterLoop()
    {
        var group = new List<CountRequest>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            group.Clear();
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out CountRequest? r))
            {
                group.Add(r);
            }

            try
            {
                await CommitAsync(group).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                foreach (CountRequest r in group)
                {
                    r.Done.TrySetException(e);
                }

                continue;
            }

            foreach (CountRequest r in group)
            {
                r.Done.TrySetResult();
            }
        }
    }

    /// <summary>Counts a group in one transaction: the users' progress rows locked in key order, then every counter.</summary>
    private async Task CommitAsync(List<CountRequest> group)
    {
        string[] users = [.. group.Select(r => r.User).Distinct(StringComparer.Ordinal)];
        await using NpgsqlConnection c = await _db.OpenConnectionAsync().ConfigureAwait(false);
        await using NpgsqlTransaction tx = await c.BeginTransactionAsync().ConfigureAwait(false);
        var counted = new Dictionary<string, int>(StringComparer.Ordinal);
        await using (var progress = new NpgsqlBatch(c, tx))
        {
            var add = new NpgsqlBatchCommand("INSERT INTO liber_stats_users(user_ext) SELECT u FROM unnest(@u) AS x(u) ORDER BY u ON CONFLICT DO NOTHING");
            add.Parameters.AddWithValue("u", NpgsqlDbType.Array | NpgsqlDbType.Text, users);
            var read = new NpgsqlBatchCommand("SELECT user_ext, counted FROM liber_stats_users WHERE user_ext = ANY(@u) ORDER BY user_ext FOR UPDATE");
            read.Parameters.AddWithValue("u", NpgsqlDbType.Array | NpgsqlDbType.Text, users);
            progress.BatchCommands.Add(add);
            progress.BatchCommands.Add(read);
            await using NpgsqlDataReader r = await progress.ExecuteReaderAsync().ConfigureAwait(false); // the insert has no result set: the reader starts at the select's
            while (await r.ReadAsync().ConfigureAwait(false))
            {
                counted[r.GetString(0)] = r.GetInt32(1);
            }
        }

        var perUser = new SortedDictionary<string, StatCount>(StringComparer.Ordinal);
        var categories = new SortedDictionary<(string User, string Category), StatCount>();
        var items = new SortedDictionary<string, StatCount>(StringComparer.Ordinal);
        StatCount total = default;
        foreach (CountRequest q in group)
        {
            int done = counted[q.User];
            if (done < q.From)
            {
                q.Done.TrySetException(new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"statistics of user {q.User}: events {done} to {q.From - 1} of the user's stream are not counted and the grain no longer holds them; the user's statistics would miss them")));
                continue;
            }

            for (int k = done - q.From; k < q.Events.Length; k++) // events counted before (a replay after a crash) are skipped
            {
                StatEvent e = q.Events[k];
                bool positive = e.Rating >= _threshold;
                total = total.Plus(positive, e.Rating);
                perUser[q.User] = perUser.GetValueOrDefault(q.User).Plus(positive, e.Rating);
                string id = _itemIds[e.Item];
                items[id] = items.GetValueOrDefault(id).Plus(positive, e.Rating);
                foreach (string key in _itemCategories[e.Item])
                {
                    categories[(q.User, key)] = categories.GetValueOrDefault((q.User, key)).Plus(positive, e.Rating);
                }
            }

            counted[q.User] = Math.Max(done, q.From + q.Events.Length);
        }

        if (perUser.Count > 0)
        {
            const string Update = "events = {0}.events + excluded.events, positives = {0}.positives + excluded.positives, rating_sum = {0}.rating_sum + excluded.rating_sum";
            await using var batch = new NpgsqlBatch(c, tx);
            var user = new NpgsqlBatchCommand(
                "UPDATE liber_stats_users AS s SET counted = x.n, events = s.events + x.c, positives = s.positives + x.p, rating_sum = s.rating_sum + x.s " +
                "FROM unnest(@k, @n, @c, @p, @s) AS x(k, n, c, p, s) WHERE s.user_ext = x.k");
            Columns(user.Parameters, perUser);
            user.Parameters.AddWithValue("n", NpgsqlDbType.Array | NpgsqlDbType.Integer, perUser.Keys.Select(u => counted[u]).ToArray());
            batch.BatchCommands.Add(user);

            // Rows in key order, so two groups touching the same rows lock them in the same order.
            if (categories.Count > 0)
            {
                var cats = new NpgsqlBatchCommand(
                    "INSERT INTO liber_stats_user_categories(user_ext, category, events, positives, rating_sum) " +
                    "SELECT x.u, x.k, x.c, x.p, x.s FROM unnest(@u, @k, @c, @p, @s) AS x(u, k, c, p, s) ORDER BY x.u, x.k " +
                    "ON CONFLICT (user_ext, category) DO UPDATE SET " + string.Format(CultureInfo.InvariantCulture, Update, "liber_stats_user_categories"));
                cats.Parameters.AddWithValue("u", NpgsqlDbType.Array | NpgsqlDbType.Text, categories.Keys.Select(k => k.User).ToArray());
                cats.Parameters.AddWithValue("k", NpgsqlDbType.Array | NpgsqlDbType.Text, categories.Keys.Select(k => k.Category).ToArray());
                Counts(cats.Parameters, categories.Values);
                batch.BatchCommands.Add(cats);
            }

            var item = new NpgsqlBatchCommand(
                "INSERT INTO liber_stats_items(item, events, positives, rating_sum) " +
                "SELECT x.k, x.c, x.p, x.s FROM unnest(@k, @c, @p, @s) AS x(k, c, p, s) ORDER BY x.k " +
                "ON CONFLICT (item) DO UPDATE SET " + string.Format(CultureInfo.InvariantCulture, Update, "liber_stats_items"));
            Columns(item.Parameters, items);
            batch.BatchCommands.Add(item);

            // Each silo's writer commits one group at a time; a random shard keeps two silos' groups off one row.
            var global = new NpgsqlBatchCommand(
                "INSERT INTO liber_stats_global(shard, events, positives, rating_sum) VALUES (@g, @c, @p, @s) " +
                "ON CONFLICT (shard) DO UPDATE SET " + string.Format(CultureInfo.InvariantCulture, Update, "liber_stats_global"));
            global.Parameters.AddWithValue("g", (short)Random.Shared.Next(GlobalShards));
            global.Parameters.AddWithValue("c", total.Count);
            global.Parameters.AddWithValue("p", total.Positives);
            global.Parameters.AddWithValue("s", total.RatingSum);
            batch.BatchCommands.Add(global);
            await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await tx.CommitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public IReadOnlyList<float[]> Rows(string user, IReadOnlyList<(string Item, IReadOnlyList<string> Categories)> candidates)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(candidates);
        string[][] keys = [.. candidates.Select(c => Keys(c.Categories))];
        using NpgsqlConnection c = _db.OpenConnection();
        using NpgsqlTransaction tx = c.BeginTransaction(System.Data.IsolationLevel.RepeatableRead); // one snapshot for all four reads
        using var batch = new NpgsqlBatch(c, tx);
        var u = new NpgsqlBatchCommand("SELECT events, positives, rating_sum FROM liber_stats_users WHERE user_ext = @u");
        u.Parameters.AddWithValue("u", user);
        var uc = new NpgsqlBatchCommand("SELECT category, events, positives, rating_sum FROM liber_stats_user_categories WHERE user_ext = @u AND category = ANY(@k)");
        uc.Parameters.AddWithValue("u", user);
        uc.Parameters.AddWithValue("k", NpgsqlDbType.Array | NpgsqlDbType.Text, keys.SelectMany(k => k).Distinct(StringComparer.Ordinal).ToArray());
        var it = new NpgsqlBatchCommand("SELECT item, events, positives, rating_sum FROM liber_stats_items WHERE item = ANY(@k)");
        it.Parameters.AddWithValue("k", NpgsqlDbType.Array | NpgsqlDbType.Text, candidates.Select(x => x.Item).Distinct(StringComparer.Ordinal).ToArray());
        var g = new NpgsqlBatchCommand("SELECT coalesce(sum(events), 0)::bigint, coalesce(sum(positives), 0)::bigint, coalesce(sum(rating_sum), 0)::double precision FROM liber_stats_global");
        batch.BatchCommands.Add(u);
        batch.BatchCommands.Add(uc);
        batch.BatchCommands.Add(it);
        batch.BatchCommands.Add(g);

        StatCount userCount = default, globalCount = default;
        var byCategory = new Dictionary<string, StatCount>(StringComparer.Ordinal);
        var byItem = new Dictionary<string, StatCount>(StringComparer.Ordinal);
        using (NpgsqlDataReader r = batch.ExecuteReader())
        {
            if (r.Read())
            {
                userCount = Read(r, 0);
            }

            r.NextResult();
            while (r.Read())
            {
                byCategory[r.GetString(0)] = Read(r, 1);
            }

            r.NextResult();
            while (r.Read())
            {
                byItem[r.GetString(0)] = Read(r, 1);
            }

            r.NextResult();
            r.Read();
            globalCount = Read(r, 0);
        }

        tx.Commit();
        var rows = new float[candidates.Count][];
        for (int k = 0; k < rows.Length; k++)
        {
            StatCount cc = default;
            foreach (string key in keys[k])
            {
                cc = cc.Plus(byCategory.GetValueOrDefault(key));
            }

            rows[k] = PointInTimeStats.Row(userCount, cc, byItem.GetValueOrDefault(candidates[k].Item), globalCount, _scale, _options);
        }

        return rows;
    }

    /// <summary>The distinct category keys of an item: upper-cased, as training matches categories case-insensitively.</summary>
    private static string[] Keys(IReadOnlyList<string> categories) =>
        [.. categories.Select(c => c.ToUpperInvariant()).Distinct(StringComparer.Ordinal)];

    private static StatCount Read(NpgsqlDataReader r, int first) => new(r.GetInt64(first), r.GetInt64(first + 1), r.GetDouble(first + 2));

    private static void Counts(NpgsqlParameterCollection p, IEnumerable<StatCount> counts)
    {
        StatCount[] all = [.. counts];
        p.AddWithValue("c", NpgsqlDbType.Array | NpgsqlDbType.Bigint, all.Select(v => v.Count).ToArray());
        p.AddWithValue("p", NpgsqlDbType.Array | NpgsqlDbType.Bigint, all.Select(v => v.Positives).ToArray());
        p.AddWithValue("s", NpgsqlDbType.Array | NpgsqlDbType.Double, all.Select(v => v.RatingSum).ToArray());
    }

    private static void Columns(NpgsqlParameterCollection p, SortedDictionary<string, StatCount> rows)
    {
        p.AddWithValue("k", NpgsqlDbType.Array | NpgsqlDbType.Text, rows.Keys.ToArray());
        Counts(p, rows.Values);
    }

    /// <summary>One grain's queued count.</summary>
    private sealed record CountRequest(string User, int From, StatEvent[] Events, TaskCompletionSource Done);
}
