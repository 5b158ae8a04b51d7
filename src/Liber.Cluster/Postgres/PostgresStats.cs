using System.Globalization;
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
/// so the counters are never a mix. Thread-safe (one pooled connection per call).
/// </summary>
public sealed class PostgresStats : IStatsSink, IStatsSource
{
    /// <summary>Shards of the all-users counter (by dense user id).</summary>
    public const int GlobalShards = 16;

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
                    ? "Its events were ingested without counting them: serve --stats off checkpoints (\"statistics\": false in the cluster file), or start a new cluster on an empty database"
                    : "Every silo must use the same \"statistics\" setting and rating scale (--rating-scale, --dataset)"));
        }
    }

    /// <inheritdoc />
    public async Task CountAsync(string user, int denseUser, int fromIndex, IReadOnlyList<StatEvent> events)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentOutOfRangeException.ThrowIfNegative(fromIndex);
        if (events.Count == 0)
        {
            return;
        }

        await using NpgsqlConnection c = await _db.OpenConnectionAsync().ConfigureAwait(false);
        await using NpgsqlTransaction tx = await c.BeginTransactionAsync().ConfigureAwait(false);
        await using (var add = new NpgsqlCommand("INSERT INTO liber_stats_users(user_ext) VALUES (@u) ON CONFLICT DO NOTHING", c, tx))
        {
            add.Parameters.AddWithValue("u", user);
            await add.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        int counted;
        await using (var progress = new NpgsqlCommand("SELECT counted FROM liber_stats_users WHERE user_ext = @u FOR UPDATE", c, tx))
        {
            progress.Parameters.AddWithValue("u", user);
            counted = (int)(await progress.ExecuteScalarAsync().ConfigureAwait(false))!;
        }

        if (counted < fromIndex)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"statistics of user {user}: events {counted} to {fromIndex - 1} of the user's stream are not counted and the grain no longer holds them; the user's statistics would miss them"));
        }

        int skip = counted - fromIndex;
        if (skip >= events.Count)
        {
            await tx.CommitAsync().ConfigureAwait(false); // counted before (a replay after a crash)
            return;
        }

        StatCount total = default;
        var items = new SortedDictionary<string, StatCount>(StringComparer.Ordinal);
        var categories = new SortedDictionary<string, StatCount>(StringComparer.Ordinal);
        for (int k = skip; k < events.Count; k++)
        {
            StatEvent e = events[k];
            if ((uint)e.Item >= (uint)_itemIds.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(events), e.Item, $"item {e.Item} is not in the catalog ({_itemIds.Length} items)");
            }

            bool positive = e.Rating >= _threshold;
            total = total.Plus(positive, e.Rating);
            string id = _itemIds[e.Item];
            items[id] = items.GetValueOrDefault(id).Plus(positive, e.Rating);
            foreach (string key in _itemCategories[e.Item])
            {
                categories[key] = categories.GetValueOrDefault(key).Plus(positive, e.Rating);
            }
        }

        const string Update = "events = {0}.events + excluded.events, positives = {0}.positives + excluded.positives, rating_sum = {0}.rating_sum + excluded.rating_sum";
        await using var batch = new NpgsqlBatch(c, tx);
        var user1 = new NpgsqlBatchCommand("UPDATE liber_stats_users SET counted = @n, events = events + @c, positives = positives + @p, rating_sum = rating_sum + @s WHERE user_ext = @u");
        user1.Parameters.AddWithValue("n", fromIndex + events.Count);
        Counts(user1.Parameters, total);
        user1.Parameters.AddWithValue("u", user);
        batch.BatchCommands.Add(user1);

        // Rows in key order, so two counts touching the same rows lock them in the same order (no deadlock).
        if (categories.Count > 0)
        {
            var cats = new NpgsqlBatchCommand(
                "INSERT INTO liber_stats_user_categories(user_ext, category, events, positives, rating_sum) " +
                "SELECT @u, x.k, x.c, x.p, x.s FROM unnest(@k, @c, @p, @s) AS x(k, c, p, s) ORDER BY x.k " +
                "ON CONFLICT (user_ext, category) DO UPDATE SET " + string.Format(CultureInfo.InvariantCulture, Update, "liber_stats_user_categories"));
            cats.Parameters.AddWithValue("u", user);
            Columns(cats.Parameters, categories);
            batch.BatchCommands.Add(cats);
        }

        var item = new NpgsqlBatchCommand(
            "INSERT INTO liber_stats_items(item, events, positives, rating_sum) " +
            "SELECT x.k, x.c, x.p, x.s FROM unnest(@k, @c, @p, @s) AS x(k, c, p, s) ORDER BY x.k " +
            "ON CONFLICT (item) DO UPDATE SET " + string.Format(CultureInfo.InvariantCulture, Update, "liber_stats_items"));
        Columns(item.Parameters, items);
        batch.BatchCommands.Add(item);

        var global = new NpgsqlBatchCommand(
            "INSERT INTO liber_stats_global(shard, events, positives, rating_sum) VALUES (@g, @c, @p, @s) " +
            "ON CONFLICT (shard) DO UPDATE SET " + string.Format(CultureInfo.InvariantCulture, Update, "liber_stats_global"));
        global.Parameters.AddWithValue("g", (short)((uint)denseUser % GlobalShards));
        Counts(global.Parameters, total);
        batch.BatchCommands.Add(global);
        await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
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

    private static void Counts(NpgsqlParameterCollection p, StatCount count)
    {
        p.AddWithValue("c", count.Count);
        p.AddWithValue("p", count.Positives);
        p.AddWithValue("s", count.RatingSum);
    }

    private static void Columns(NpgsqlParameterCollection p, SortedDictionary<string, StatCount> rows)
    {
        p.AddWithValue("k", NpgsqlDbType.Array | NpgsqlDbType.Text, rows.Keys.ToArray());
        p.AddWithValue("c", NpgsqlDbType.Array | NpgsqlDbType.Bigint, rows.Values.Select(v => v.Count).ToArray());
        p.AddWithValue("p", NpgsqlDbType.Array | NpgsqlDbType.Bigint, rows.Values.Select(v => v.Positives).ToArray());
        p.AddWithValue("s", NpgsqlDbType.Array | NpgsqlDbType.Double, rows.Values.Select(v => v.RatingSum).ToArray());
    }
}
