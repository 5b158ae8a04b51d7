using Liber.Core.Data;
using Liber.Core.Readers;

namespace Liber.Core.Synthetic;

/// <summary>Options of the synthetic world (defaults: the main job's embedded data set).</summary>
public sealed record SyntheticOptions
{
    /// <summary>Random seed; the same seed gives the same world.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Number of users.</summary>
    public int Users { get; init; } = 3000;

    /// <summary>Number of catalog items.</summary>
    public int Items { get; init; } = 3000;

    /// <summary>Mean events per user; each user gets between half and one and a half times this.</summary>
    public int MeanEvents { get; init; } = 300;

    /// <summary>Mean length of an interest regime in events (a regime always lasts at least 20 events).</summary>
    public int MeanRegimeLength { get; init; } = 70;

    /// <summary>Validates the options.</summary>
    public void Validate()
    {
        if (Users < 1 || Items < 50 || MeanEvents < 10 || MeanRegimeLength < 20)
        {
            throw new ArgumentException("synthetic world needs users >= 1, items >= 50, mean events >= 10, mean regime length >= 20");
        }
    }
}

/// <summary>One interest regime of a user: what the user seeks and rates well while it lasts.</summary>
/// <param name="Id">Global regime id.</param>
/// <param name="User">Dense user id.</param>
/// <param name="Genres">Dominant genres, strongest first.</param>
/// <param name="Weights">Weight of each dominant genre (sums to 1).</param>
/// <param name="Mood">Preferred mood.</param>
/// <param name="Decade">Preferred decade (e.g. 1980).</param>
public sealed record Regime(int Id, int User, IReadOnlyList<string> Genres, IReadOnlyList<double> Weights, string Mood, int Decade);

/// <summary>
/// A generated world with ground truth: items with readable titles, genres, eras and moods; users whose
/// interests move through regimes (and return to earlier ones) over a lifelong history, in sessions, with
/// ratings that depend on how well an item fits the current regime and the user's lasting tastes.
/// </summary>
public sealed class SyntheticWorld
{
    /// <summary>The genre vocabulary.</summary>
    public static IReadOnlyList<string> Genres { get; } =
    [
        "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Fantasy", "Horror",
        "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western", "Film-Noir", "Children",
    ];

    /// <summary>The mood vocabulary (stored as the first tag of each item).</summary>
    public static IReadOnlyList<string> Moods { get; } =
        ["uplifting", "dark", "tense", "whimsical", "melancholic", "romantic", "cerebral", "gritty"];

    private static readonly string[] Adjectives =
    [
        "Silent", "Crimson", "Hidden", "Last", "Broken", "Golden", "Distant", "Burning", "Frozen", "Secret",
        "Wild", "Midnight", "Hollow", "Electric", "Forgotten", "Restless", "Northern", "Velvet", "Iron", "Paper",
        "Shattered", "Lonely", "Brave", "Endless", "Scarlet", "Quiet", "Savage", "Gentle", "Falling", "Rising",
    ];

    private static readonly string[] Nouns =
    [
        "Harbor", "Kingdom", "Garden", "River", "Empire", "Horizon", "Lantern", "Mirror", "Station", "Frontier",
        "Orchard", "Tide", "Citadel", "Voyage", "Melody", "Shadow", "Canyon", "Signal", "Island", "Summer",
        "Winter", "Letter", "Machine", "Crown", "Storm", "Valley", "Engine", "Promise", "Circus", "Highway",
    ];

    private static readonly string[] Themes =
        ["family", "revenge", "friendship", "survival", "first love", "betrayal", "ambition", "redemption", "discovery", "exile"];

    private SyntheticWorld(Dataset dataset, int[] regimeOfEvent, IReadOnlyList<Regime> regimes)
    {
        Dataset = dataset;
        RegimeOfEvent = regimeOfEvent;
        Regimes = regimes;
    }

    /// <summary>The generated data set (kind <c>synthetic</c>).</summary>
    public Dataset Dataset { get; }

    /// <summary>Ground-truth regime id of every event, by source position.</summary>
    public IReadOnlyList<int> RegimeOfEvent { get; }

    /// <summary>All regimes, by id.</summary>
    public IReadOnlyList<Regime> Regimes { get; }

    /// <summary>Generates a world; deterministic for a given <see cref="SyntheticOptions"/>.</summary>
    public static SyntheticWorld Generate(SyntheticOptions options)
    {
        options.Validate();
        var rng = new Random(options.Seed);
        var b = new DatasetBuilder("synthetic", $"synthetic(seed={options.Seed}, users={options.Users}, items={options.Items}, mean_events={options.MeanEvents})", RatingScale.FiveStars, BadRowPolicy.Fail);
        var items = MakeItems(b, options.Items, rng);
        var byGenre = Enumerable.Range(0, Genres.Count).Select(g => new WeightedPicker(items.Where(i => i.Genres.Contains(g)).Select(i => (i.Id, i.Popularity)))).ToArray();
        var all = new WeightedPicker(items.Select(i => (i.Id, i.Popularity)));
        var regimes = new List<Regime>();
        var regimeOfEvent = new List<int>(options.Users * options.MeanEvents);
        for (int u = 0; u < options.Users; u++)
        {
            // Each user gets a private generator so that one user's history does not depend on another's length.
            var ur = new Random(UserSeed(options.Seed, u));
            GenerateUser(b, ur, u, options, items, byGenre, all, regimes, regimeOfEvent);
        }

        return new SyntheticWorld(b.Build(), [.. regimeOfEvent], regimes);
    }

    private sealed record SynItem(int Id, int[] Genres, int Mood, int Decade, double Quality, double Popularity);

    private static List<SynItem> MakeItems(DatasetBuilder b, int count, Random rng)
    {
        var items = new List<SynItem>(count);
        var titles = new HashSet<string>(StringComparer.Ordinal);
        int[] decades = [1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020];
        double[] decadeWeights = [0.04, 0.06, 0.09, 0.13, 0.18, 0.22, 0.22, 0.06];
        int[] rank = Enumerable.Range(1, count).OrderBy(_ => rng.Next()).ToArray();
        for (int i = 0; i < count; i++)
        {
            int primary = rng.Next(Genres.Count);
            var genres = new List<int> { primary };
            if (rng.NextDouble() < 0.5)
            {
                AddDistinct(genres, rng.Next(Genres.Count));
            }

            if (rng.NextDouble() < 0.15)
            {
                AddDistinct(genres, rng.Next(Genres.Count));
            }

            int decade = decades[Pick(decadeWeights, rng)];
            int year = decade + rng.Next(10);
            int mood = rng.Next(Moods.Count);
            string title = MakeTitle(rng, titles);
            string theme = Themes[rng.Next(Themes.Length)];
            var item = new SynItem(i, [.. genres], mood, decade, Gaussian(rng) * 0.5, 1.0 / Math.Pow(rank[i], 0.8));
            string[] genreNames = genres.Select(g => Genres[g]).ToArray();
            string text = $"A {Moods[mood]} {Genres[primary].ToLowerInvariant()} story of {theme}, set in the {decade}s.";
            string ext = (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            b.TryAddCatalogItem(ext, id => new Item(id, ext, title, year, genreNames, [Moods[mood], theme], text), numeric: true);
            items.Add(item);
        }

        b.MarkCatalogRead();
        return items;
    }

    private static void GenerateUser(DatasetBuilder b, Random r, int u, SyntheticOptions o, List<SynItem> items,
        WeightedPicker[] byGenre, WeightedPicker all, List<Regime> regimes, List<int> regimeOfEvent)
    {
        int events = (int)Math.Round(o.MeanEvents * (0.5 + r.NextDouble()));
        int personas = 2 + r.Next(3);
        var mine = new List<(Regime Regime, int[] Genres)>();
        for (int p = 0; p < personas; p++)
        {
            int g1 = r.Next(Genres.Count), g2;
            do
            {
                g2 = r.Next(Genres.Count);
            }
            while (g2 == g1 || mine.Any(m => m.Genres[0] == g1 && m.Genres[1] == g2));

            double w1 = 0.55 + 0.2 * r.NextDouble();
            var regime = new Regime(regimes.Count, u, [Genres[g1], Genres[g2]], [w1, 1 - w1], Moods[r.Next(Moods.Count)], 1950 + 10 * r.Next(8));
            regimes.Add(regime);
            mine.Add((regime, [g1, g2]));
        }

        int disliked = r.Next(Genres.Count);
        double bias = Gaussian(r) * 0.35;
        string ext = (u + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        int user = b.Users.GetOrAdd(u + 1L);
        string[] ages = ["Under 18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+"];
        b.SetProfile(new UserProfile(user, ext, null, ages[Pick([0.05, 0.25, 0.3, 0.17, 0.09, 0.08, 0.06], r)], r.Next(2) == 0 ? "F" : "M", null, null,
            new Dictionary<string, string> { ["disliked_genre"] = Genres[disliked] }));

        long t = new DateTimeOffset(2015, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() + (long)(r.NextDouble() * 4 * 365 * 86400);
        int current = r.Next(personas);
        int left = RegimeLength(r, o.MeanRegimeLength);
        var seen = new HashSet<int>();
        int n = 0;
        while (n < events)
        {
            // A new session; regimes change only between sessions, as a user's mood does.
            if (left <= 0)
            {
                int next;
                do
                {
                    next = r.Next(personas);
                }
                while (next == current);

                current = next;
                left = RegimeLength(r, o.MeanRegimeLength);
            }

            int session = Math.Min(events - n, 2 + Poisson(r, 6));
            var (regime, gs) = mine[current];
            for (int s = 0; s < session; s++, n++, left--)
            {
                int item = ChooseItem(r, regime, gs, byGenre, all, seen);
                SynItem it = items[item];
                double match = 0;
                for (int k = 0; k < gs.Length; k++)
                {
                    if (it.Genres.Contains(gs[k]))
                    {
                        match += regime.Weights[k];
                    }
                }

                double score = 2.55 + 1.6 * Math.Min(1, match) + (Moods[it.Mood] == regime.Mood ? 0.45 : 0)
                               + (it.Decade == regime.Decade ? 0.3 : 0) + it.Quality + bias
                               - (it.Genres.Contains(disliked) ? 1.3 : 0) + Gaussian(r) * 0.6;
                float rating = (float)Math.Clamp(Math.Round(score), 1, 5);
                b.Events.Add(user, item, t, rating);
                regimeOfEvent.Add(regime.Id);
                t += s + 1 < session ? 60 + r.Next(900) : 0;
            }

            t += 3600 + (long)(-Math.Log(1 - r.NextDouble()) * 2 * 86400);
        }
    }

    private static int ChooseItem(Random r, Regime regime, int[] gs, WeightedPicker[] byGenre, WeightedPicker all, HashSet<int> seen)
    {
        for (int attempt = 0; ; attempt++)
        {
            int item = r.NextDouble() < 0.75
                ? byGenre[gs[r.NextDouble() < regime.Weights[0] ? 0 : 1]].Pick(r)
                : all.Pick(r);
            if (seen.Add(item) || attempt >= 8)
            {
                return item;
            }
        }
    }

    // HashCode.Combine is randomised per process, so seeds are mixed with SplitMix64 instead.
    private static int UserSeed(int seed, int user)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32 | (uint)user) + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    private static int RegimeLength(Random r, int mean) => 20 + (int)(-Math.Log(1 - r.NextDouble()) * (mean - 20));

    private static void AddDistinct(List<int> list, int value)
    {
        if (!list.Contains(value))
        {
            list.Add(value);
        }
    }

    private static string MakeTitle(Random rng, HashSet<string> used)
    {
        string a = Adjectives[rng.Next(Adjectives.Length)], n = Nouns[rng.Next(Nouns.Length)], m = Nouns[rng.Next(Nouns.Length)];
        string title = rng.Next(4) switch
        {
            0 => $"The {a} {n}",
            1 => $"{n} of the {a} {m}",
            2 => $"{a} {n}",
            _ => $"Return to the {n}",
        };
        string unique = title;
        for (int k = 2; !used.Add(unique); k++)
        {
            unique = $"{title} {k}";
        }

        return unique;
    }

    private static int Pick(double[] weights, Random r)
    {
        double x = r.NextDouble() * weights.Sum();
        for (int i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    private static double Gaussian(Random r) =>
        Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    private static int Poisson(Random r, double mean)
    {
        double l = Math.Exp(-mean), p = 1;
        int k = 0;
        do
        {
            k++;
            p *= r.NextDouble();
        }
        while (p > l);
        return k - 1;
    }

    /// <summary>Draws ids in proportion to their weights by binary search over the cumulative sums.</summary>
    private sealed class WeightedPicker
    {
        private readonly int[] _ids;
        private readonly double[] _cumulative;

        public WeightedPicker(IEnumerable<(int Id, double Weight)> entries)
        {
            var list = entries.ToList();
            _ids = list.Select(e => e.Id).ToArray();
            _cumulative = new double[list.Count];
            double sum = 0;
            for (int i = 0; i < list.Count; i++)
            {
                sum += list[i].Weight;
                _cumulative[i] = sum;
            }
        }

        public int Pick(Random r)
        {
            double x = r.NextDouble() * _cumulative[^1];
            int i = Array.BinarySearch(_cumulative, x);
            return _ids[Math.Min(i < 0 ? ~i : i, _ids.Length - 1)];
        }
    }
}

/// <summary>The <c>synthetic</c> data set kind: a generated world (no folder needed).</summary>
public sealed class SyntheticReader : IDatasetReader
{
    /// <inheritdoc />
    public string Kind => "synthetic";

    /// <inheritdoc />
    public string Description => "a generated world with drifting user interests (the embedded default; no --path)";

    /// <inheritdoc />
    public Dataset Read(DatasetRequest request) => SyntheticWorld.Generate(request.Synthetic ?? new SyntheticOptions()).Dataset;
}
