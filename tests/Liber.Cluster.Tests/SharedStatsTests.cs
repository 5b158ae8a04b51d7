using Liber.Cluster.Postgres;
using Liber.Core.Data;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Liber.Cluster.Tests;

/// <summary>
/// The cluster's shared point-in-time statistics (<see cref="PostgresStats"/>): the user grains of a 3-silo in-process
/// cluster count ml-100k traffic into PostgreSQL, and every row read back equals the single-process counters
/// (<see cref="OnlineStats"/>) fed the same events; a count is exactly once across failures; the setting is fixed per
/// database.
/// </summary>
public sealed class SharedStatsTests
{
    [PostgresFact("ml-100k")]
    public async Task Rows_counted_by_the_grains_of_three_silos_equal_the_single_process_counters()
    {
        const int Users = 60;
        Ml100kSlice data = ClusterFixture.Data;
        using var pg = new PgScratch();
        await using InProcessTestCluster cluster = await Start(pg, data);
        IGrainFactory[] entrances = [cluster.Client, .. cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<IGrainFactory>())];
        var single = new OnlineStats(data.Dataset.Scale, data.Dataset.Scale.DefaultThreshold);
        int b = 0, events = 0;
        foreach (ExternalEvent[] batch in data.Traffic(0, Users).Select(t => t.Event).Chunk(300))
        {
            AppendResult r = await ClusterIngest.AppendAsync(entrances[b++ % entrances.Length], batch);
            Assert.Equal(batch.Length, r.Applied);
            foreach (ExternalEvent e in batch)
            {
                single.Add(e.User, e.Item, Categories(data, e.Item), e.Rating);
            }

            events += batch.Length;
        }

        using LiberDatabase db = pg.Open();
        using var shared = new PostgresStats(db.Source, data.Dataset.Scale, data.Dataset.Catalog);
        Assert.Equal(events, pg.Scalar("SELECT sum(events) FROM liber_stats_users"));
        Assert.Equal(events, pg.Scalar("SELECT sum(events) FROM liber_stats_global"));
        Assert.Equal(events, pg.Scalar("SELECT sum(events) FROM liber_stats_items"));
        Assert.Equal(events, pg.Scalar("SELECT sum(counted) FROM liber_stats_users"));

        var random = new Random(3);
        int checkedRows = 0;
        for (int u = 0; u < Users + 5; u += 4) // users Users.. have no events: their rows read the priors
        {
            string user = data.Dataset.Users.External(u);
            (string, IReadOnlyList<string>)[] candidates = [.. Enumerable.Range(0, 25).Select(_ => data.Dataset.Items.External(random.Next(data.Dataset.Items.Count))).Select(i => (i, Categories(data, i)))];
            IReadOnlyList<float[]> want = single.Rows(user, candidates);
            IReadOnlyList<float[]> got = shared.Rows(user, candidates);
            Assert.Equal(want.Count, got.Count);
            for (int k = 0; k < want.Count; k++)
            {
                for (int c = 0; c < PointInTimeStats.Width; c++)
                {
                    Assert.True(Math.Abs(want[k][c] - got[k][c]) < 1e-6, $"user {user} item {candidates[k].Item1} column {PointInTimeStats.Names[c]}: single {want[k][c]}, cluster {got[k][c]}");
                }

                checkedRows++;
            }
        }

        Assert.True(checkedRows > 300);
        Assert.True(shared.Rows(data.Dataset.Users.External(0), [(data.Dataset.Items.External(0), Categories(data, data.Dataset.Items.External(0)))])[0][0] > 0); // not only priors
    }

    [PostgresFact("ml-100k")]
    public async Task A_count_that_fails_after_or_before_its_write_is_made_good_once_by_the_resend_or_the_next_activation()
    {
        Ml100kSlice data = ClusterFixture.Data;
        using var pg = new PgScratch();
        await using InProcessTestCluster cluster = await Start(pg, data, flaky: true);
        using LiberDatabase db = pg.Open();

        // The silo dies after the count's commit: the call fails, the resend is all duplicates and counts nothing twice.
        UserEvent[] first = Events(data, 7);
        IUserGrain grain = cluster.Client.GetGrain<IUserGrain>(data.Dataset.Users.External(7));
        FlakyStats.FailAfterNextCount = 1;
        await Assert.ThrowsAnyAsync<Exception>(() => grain.Append(first));
        AppendResult again = await grain.Append(first);
        Assert.Equal((0, first.Length), (again.Applied, again.Duplicates));
        Assert.Equal(first.Length, pg.Scalar($"SELECT events FROM liber_stats_users WHERE user_ext = '{data.Dataset.Users.External(7)}'"));

        // The database is unreachable for the count: the events stay uncounted in the grain's state, and the next
        // activation counts them.
        UserEvent[] second = Events(data, 8);
        IUserGrain other = cluster.Client.GetGrain<IUserGrain>(data.Dataset.Users.External(8));
        FlakyStats.FailBeforeNextCount = 1;
        await Assert.ThrowsAnyAsync<Exception>(() => other.Append(second));
        Assert.Equal(0, pg.Scalar($"SELECT count(*) FROM liber_stats_users WHERE user_ext = '{data.Dataset.Users.External(8)}'"));
        await cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(second.Length, (await other.Snapshot()).Applied);
        Assert.Equal(second.Length, pg.Scalar($"SELECT events FROM liber_stats_users WHERE user_ext = '{data.Dataset.Users.External(8)}'"));
        Assert.Equal(first.Length + second.Length, pg.Scalar("SELECT sum(events) FROM liber_stats_global"));
    }

    [PostgresFact]
    public async Task Counts_are_exactly_once_by_event_number_and_a_gap_is_refused()
    {
        using var pg = new PgScratch();
        using LiberDatabase db = pg.Open();
        RatingScale scale = RatingScale.FiveStars;
        Item[] catalog = [new Item(0, "a", "A", null, ["Rock", "rock", "Jazz"], [], null), new Item(1, "b", "B", null, ["JAZZ"], [], null)];
        using var stats = new PostgresStats(db.Source, scale, catalog);
        StatEvent[] events = [new(0, 5), new(1, 2), new(0, 4)];
        await stats.CountAsync("u", 0, events);
        await stats.CountAsync("u", 0, events); // a replay
        await stats.CountAsync("u", 1, [events[1], events[2], new StatEvent(1, 3)]); // two counted, one new
        Assert.Equal(4, pg.Scalar("SELECT events FROM liber_stats_users WHERE user_ext = 'u'"));
        Assert.Equal(4, pg.Scalar("SELECT counted FROM liber_stats_users WHERE user_ext = 'u'"));
        Assert.Equal(2, pg.Scalar("SELECT events FROM liber_stats_user_categories WHERE user_ext = 'u' AND category = 'ROCK'")); // 'Rock' and 'rock' are one category
        Assert.Equal(4, pg.Scalar("SELECT events FROM liber_stats_user_categories WHERE user_ext = 'u' AND category = 'JAZZ'"));
        Assert.Equal(2, pg.Scalar("SELECT positives FROM liber_stats_items WHERE item = 'a'"));
        InvalidOperationException gap = await Assert.ThrowsAsync<InvalidOperationException>(() => stats.CountAsync("u", 6, [new StatEvent(0, 1)]));
        Assert.Contains("events 4 to 5", gap.Message, StringComparison.Ordinal);

        var single = new OnlineStats(scale, scale.DefaultThreshold);
        foreach ((int item, float rating) in new[] { (0, 5f), (1, 2f), (0, 4f), (1, 3f) })
        {
            single.Add("u", catalog[item].ExternalId, catalog[item].Categories, rating);
        }

        (string, IReadOnlyList<string>)[] candidates = [("a", ["rock"]), ("b", ["Jazz", "ROCK"]), ("new", [])];
        IReadOnlyList<float[]> want = single.Rows("u", candidates), got = stats.Rows("u", candidates);
        for (int k = 0; k < candidates.Length; k++)
        {
            Assert.Equal(want[k], got[k], (x, y) => Math.Abs(x - y) < 1e-6);
        }

        // Concurrent counts share transactions (the group commit); a gap among them fails alone, a replay adds nothing.
        Task[] many = [.. Enumerable.Range(0, 200).Select(i => stats.CountAsync($"g{i % 50}", i / 50, [new StatEvent(i % 2, 1 + (i % 5))]))];
        Task bad = stats.CountAsync("u", 9, [new StatEvent(0, 1)]);
        Task replay = stats.CountAsync("u", 0, events);
        await Task.WhenAll(many);
        await replay;
        await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Equal(4, pg.Scalar("SELECT events FROM liber_stats_users WHERE user_ext = 'u'"));
        Assert.Equal(200, pg.Scalar("SELECT sum(events) FROM liber_stats_users WHERE user_ext LIKE 'g%'"));
        Assert.Equal(50 * 4, pg.Scalar("SELECT sum(counted) FROM liber_stats_users WHERE user_ext LIKE 'g%'"));
        Assert.Equal(204, pg.Scalar("SELECT sum(events) FROM liber_stats_global"));
    }

    [PostgresFact]
    public void The_statistics_setting_is_fixed_by_the_first_silo_and_a_schema_1_database_with_users_has_none()
    {
        using var pg = new PgScratch();
        using (LiberDatabase db = pg.Open())
        {
            using var first = new PostgresStats(db.Source, RatingScale.FiveStars, []);
            using var second = new PostgresStats(db.Source, RatingScale.FiveStars, []); // the same setting: fine
            InvalidOperationException other = Assert.Throws<InvalidOperationException>(() => new PostgresStats(db.Source, new RatingScale(0, 10, 6), []));
            Assert.Contains("fixed when its first silo started", other.Message, StringComparison.Ordinal);
            Assert.Contains("positive at >= 6", other.Message, StringComparison.Ordinal);
            Assert.Throws<InvalidOperationException>(() => PostgresStats.Claim(db.Source, null));
        }

        // A database of the schema before the statistics, with users: migrated to 2 and marked as counting none.
        using var old = new PgScratch();
        using (LiberDatabase db = old.Open())
        {
            PgScratch.Execute(old.ConnectionString, "INSERT INTO liber_users(user_id, external) VALUES (0, 'x'); UPDATE liber_meta SET value = '1' WHERE key = 'schema'");
        }

        using (LiberDatabase db = old.Open())
        {
            Assert.Equal(2, old.Scalar("SELECT value::int FROM liber_meta WHERE key = 'schema'"));
            PostgresStats.Claim(db.Source, null);
            InvalidOperationException refused = Assert.Throws<InvalidOperationException>(() => new PostgresStats(db.Source, RatingScale.FiveStars, []));
            Assert.Contains("ingested without counting them", refused.Message, StringComparison.Ordinal);
        }
    }

    private static IReadOnlyList<string> Categories(Ml100kSlice data, string item) =>
        data.Dataset.Items.TryGet(item, out int id) ? data.Dataset.Catalog[id].Categories : [];

    private static UserEvent[] Events(Ml100kSlice data, int user) =>
        [.. data.Traffic(user, user + 1).Select(t => new UserEvent(t.Event.EventId, t.Event.Item, t.Event.Timestamp, t.Event.Rating))];

    private static async Task<InProcessTestCluster> Start(PgScratch pg, Ml100kSlice data, bool flaky = false)
    {
        InProcessTestCluster cluster = ClusterFactory.Build(data.Settings, silo =>
        {
            silo.AddMemoryGrainStorage(ClusterHosting.StorageName);
            silo.AddLiberPostgresTables(pg.ConnectionString);
            silo.Services.AddSingleton<IStatsSink>(sp =>
            {
                var real = new PostgresStats(sp.GetRequiredService<LiberDatabase>().Source, data.Dataset.Scale, data.Dataset.Catalog);
                return flaky ? new FlakyStats(real) : real;
            });
        });
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>The real statistics, which can be told to fail once before the count (database unreachable) or right after its commit (a silo dying).</summary>
    private sealed class FlakyStats(IStatsSink inner) : IStatsSink
    {
        public static int FailAfterNextCount;

        public static int FailBeforeNextCount;

        public async Task CountAsync(string user, int fromIndex, IReadOnlyList<StatEvent> events)
        {
            if (Interlocked.Exchange(ref FailBeforeNextCount, 0) == 1)
            {
                throw new InvalidOperationException("injected: the database is unreachable");
            }

            await inner.CountAsync(user, fromIndex, events);
            if (Interlocked.Exchange(ref FailAfterNextCount, 0) == 1)
            {
                throw new InvalidOperationException("injected: the silo died after the count");
            }
        }
    }
}
