namespace Liber.Core.Data;

/// <summary>The rating scale of a data set and its default label threshold (protocol section 2).</summary>
/// <param name="Min">Lowest rating.</param>
/// <param name="Max">Highest rating.</param>
/// <param name="DefaultThreshold">Default label threshold.</param>
/// <param name="Step">Ratings must be Min + k * Step (null: any value in range).</param>
public sealed record RatingScale(float Min, float Max, float DefaultThreshold, float? Step = null)
{
    /// <summary>Whole stars 1-5 (MovieLens 100K, 1M, the synthetic world).</summary>
    public static RatingScale FiveStars { get; } = new(1, 5, 4, 1);

    /// <summary>Half stars 0.5-5 (MovieLens latest, 10M).</summary>
    public static RatingScale HalfStars { get; } = new(0.5f, 5, 4, 0.5f);

    /// <summary>Whether a rating lies on the scale (in range and, if the scale has steps, on a step).</summary>
    public bool Contains(float rating)
    {
        if (!(rating >= Min && rating <= Max))
        {
            return false;
        }

        if (Step is not float step)
        {
            return true;
        }

        double k = (rating - Min) / step;
        return Math.Abs(k - Math.Round(k)) < 1e-4;
    }
}

/// <summary>
/// A loaded data set: events in source order, the item catalog and user profiles, indexed by dense ids.
/// Produced by the readers; turned into user streams by <see cref="Streams.UserStreams"/>.
/// </summary>
public sealed class Dataset
{
    /// <summary>Creates a data set from what a reader produced.</summary>
    public Dataset(
        string kind,
        string source,
        IdMap users,
        IdMap items,
        EventTable events,
        IReadOnlyList<Item> catalog,
        int catalogItems,
        IReadOnlyList<UserProfile?> profiles,
        RatingScale scale,
        LoadReport report)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(catalog.Count, items.Count, nameof(catalog));
        Kind = kind;
        Source = source;
        Users = users;
        Items = items;
        Events = events;
        Catalog = catalog;
        CatalogItems = catalogItems;
        Profiles = profiles;
        Scale = scale;
        Report = report;
    }

    /// <summary>The reader kind (movielens-100k, movielens-1m, movielens-latest, csv, synthetic).</summary>
    public string Kind { get; }

    /// <summary>Where it came from (a folder, or the generator and its seed).</summary>
    public string Source { get; }

    /// <summary>External to dense user ids.</summary>
    public IdMap Users { get; }

    /// <summary>External to dense item ids.</summary>
    public IdMap Items { get; }

    /// <summary>Events in source order.</summary>
    public EventTable Events { get; }

    /// <summary>Every item by dense id: those from the metadata file, then any known only from events.</summary>
    public IReadOnlyList<Item> Catalog { get; }

    /// <summary>Number of items that came from a metadata file.</summary>
    public int CatalogItems { get; }

    /// <summary>Profiles by dense user id (null where the data set has none).</summary>
    public IReadOnlyList<UserProfile?> Profiles { get; }

    /// <summary>The rating scale.</summary>
    public RatingScale Scale { get; }

    /// <summary>What the load skipped.</summary>
    public LoadReport Report { get; }
}
