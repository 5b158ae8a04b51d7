using Liber.Core.Data;

namespace Liber.Core.Streams;

/// <summary>
/// The point-in-time statistics of a live service: the counters of <see cref="PointInTimeStats"/> kept up to date as events
/// are applied, so that a ranking request reads, for each candidate, the same 8 values training read for an event at that
/// moment (the user's events so far, the user's events on the candidate's categories, the item's and all users' events so
/// far). Users and items are named by their external ids; categories are matched case-insensitively, as in training.
/// Thread-safe.
/// </summary>
public sealed class OnlineStats(RatingScale scale, float threshold, StatsOptions? options = null) : IStatsSource
{
    private readonly object _gate = new();
    private readonly StatsOptions _options = Validated(options ?? new StatsOptions());
    private readonly Dictionary<string, PointInTimeStats.Counter> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PointInTimeStats.Counter> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<(string User, string Category), PointInTimeStats.Counter> _userCategories = new(UserCategoryComparer.Instance);
    private PointInTimeStats.Counter _global;

    /// <summary>Events counted so far.</summary>
    public long Events
    {
        get
        {
            lock (_gate)
            {
                return _global.Count;
            }
        }
    }

    /// <summary>Counts one applied event of <paramref name="user"/> on <paramref name="item"/> (whose categories are <paramref name="categories"/>).</summary>
    public void Add(string user, string item, IReadOnlyList<string> categories, float rating)
    {
        ArgumentNullException.ThrowIfNull(categories);
        bool positive = rating >= threshold;
        lock (_gate)
        {
            Bump(_users, user, positive, rating);
            Bump(_items, item, positive, rating);
            _global.Add(positive, rating);
            foreach (string c in categories.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                _userCategories.TryGetValue((user, c), out PointInTimeStats.Counter x);
                x.Add(positive, rating);
                _userCategories[(user, c)] = x;
            }
        }
    }

    /// <summary>The 8 values (<see cref="PointInTimeStats.Names"/>) of <paramref name="user"/> and candidate <paramref name="item"/> now.</summary>
    public float[] Row(string user, string item, IReadOnlyList<string> categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        var row = new float[PointInTimeStats.Width];
        lock (_gate)
        {
            PointInTimeStats.Counter cc = default;
            foreach (string c in categories.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (_userCategories.TryGetValue((user, c), out PointInTimeStats.Counter x))
                {
                    cc.Add(x);
                }
            }

            PointInTimeStats.Fill(row, _users.GetValueOrDefault(user), cc, _items.GetValueOrDefault(item), _global, scale, _options);
        }

        return row;
    }

    /// <inheritdoc />
    public IReadOnlyList<float[]> Rows(string user, IReadOnlyList<(string Item, IReadOnlyList<string> Categories)> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        return [.. candidates.Select(c => Row(user, c.Item, c.Categories))];
    }

    private static void Bump(Dictionary<string, PointInTimeStats.Counter> map, string key, bool positive, float rating)
    {
        map.TryGetValue(key, out PointInTimeStats.Counter x);
        x.Add(positive, rating);
        map[key] = x;
    }

    private static StatsOptions Validated(StatsOptions o)
    {
        o.Validate();
        return o;
    }

    private sealed class UserCategoryComparer : IEqualityComparer<(string User, string Category)>
    {
        public static UserCategoryComparer Instance { get; } = new();

        public bool Equals((string User, string Category) x, (string User, string Category) y) =>
            string.Equals(x.User, y.User, StringComparison.Ordinal) && string.Equals(x.Category, y.Category, StringComparison.OrdinalIgnoreCase);

        public int GetHashCode((string User, string Category) obj) =>
            HashCode.Combine(StringComparer.Ordinal.GetHashCode(obj.User), StringComparer.OrdinalIgnoreCase.GetHashCode(obj.Category));
    }
}
