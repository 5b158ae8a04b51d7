using System.Globalization;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>
/// The "::" format of MovieLens 1M and 10M: <c>ratings.dat</c> (UserID::MovieID::Rating::Timestamp),
/// <c>movies.dat</c> (MovieID::Title (Year)::Genre|Genre, Latin-1), <c>users.dat</c> (UserID::Gender::Age::Occupation::Zip,
/// coded; 1M only) and <c>tags.dat</c> (UserID::MovieID::Tag::Timestamp; 10M only). Half-star ratings (10M) are accepted.
/// </summary>
public sealed class MovieLens1MReader : IDatasetReader
{
    /// <summary>Age codes of users.dat and their meaning (MovieLens 1M README).</summary>
    public static IReadOnlyDictionary<int, string> AgeCodes { get; } = new Dictionary<int, string>
    {
        [1] = "Under 18", [18] = "18-24", [25] = "25-34", [35] = "35-44", [45] = "45-49", [50] = "50-55", [56] = "56+",
    };

    /// <summary>Occupation codes 0-20 of users.dat and their meaning (MovieLens 1M README).</summary>
    public static IReadOnlyList<string> Occupations { get; } =
    [
        "other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
        "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer", "programmer",
        "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer", "tradesman/craftsman",
        "unemployed", "writer",
    ];

    /// <inheritdoc />
    public string Kind => "movielens-1m";

    /// <inheritdoc />
    public string Description => "MovieLens 1M or 10M folder in the '::' format (ratings.dat, movies.dat, users.dat)";

    /// <inheritdoc />
    public Dataset Read(DatasetRequest request)
    {
        string dir = DatasetReaders.RequireFolder(request, Kind);
        var b = new DatasetBuilder(Kind, dir, RatingScale.HalfStars, request.OnBadRow);
        ReadMovies(b, Path.Combine(dir, "movies.dat"));
        RatingsFile.Read(b, Path.Combine(dir, "ratings.dat"), "::", header: null, catalogFile: "movies.dat");
        string users = Path.Combine(dir, "users.dat");
        if (File.Exists(users))
        {
            ReadUsers(b, users);
        }

        string tags = Path.Combine(dir, "tags.dat");
        if (File.Exists(tags))
        {
            var joiner = new TagJoiner(b);
            FileEncoding enc = Fields.DetectLatin1OrUtf8(tags);
            DelimitedText.ForEachRow(tags, "::", enc, (f, line, text) =>
            {
                if (f.Length != 4)
                {
                    b.Bad.Bad("malformed line", tags, line, text, $"expected 4 fields (user::movie::tag::timestamp), found {f.Length}");
                    return;
                }

                joiner.Add(f[1], f[2], tags, line, text);
            });
            joiner.Apply();
        }

        return b.Build();
    }

    private static void ReadMovies(DatasetBuilder b, string path)
    {
        FileEncoding encoding = File.Exists(path) ? Fields.DetectLatin1OrUtf8(path) : FileEncoding.Latin1;
        DelimitedText.ForEachRow(path, "::", encoding, (f, line, text) =>
        {
            if (f.Length != 3)
            {
                b.Bad.Bad("malformed line", path, line, text, $"expected 3 fields (MovieID::Title::Genres), found {f.Length}");
                return;
            }

            if (!long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                b.Bad.Bad("item id is not an integer", path, line, text, $"item id \"{f[0]}\"");
                return;
            }

            (string title, int? year) = Fields.SplitTitleYear(f[1]);
            string[] genres = SplitGenres(f[2]);
            if (!b.TryAddCatalogItem(f[0], id => new Item(id, f[0], title, year, genres, [], null), numeric: true))
            {
                b.Bad.Bad("duplicate item id", path, line, text, $"item {f[0]} appears twice");
            }
        });
        b.MarkCatalogRead();
    }

    /// <summary>Splits a "A|B|C" genre field; "(no genres listed)" and empty give no genres.</summary>
    public static string[] SplitGenres(string field) =>
        field is "" or "(no genres listed)" ? [] : field.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static void ReadUsers(DatasetBuilder b, string path)
    {
        DelimitedText.ForEachRow(path, "::", FileEncoding.Latin1, (f, line, text) =>
        {
            if (f.Length != 5)
            {
                b.Bad.Bad("malformed line", path, line, text, $"expected 5 fields (UserID::Gender::Age::Occupation::Zip-code), found {f.Length}");
                return;
            }

            if (!long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out long external)
                || !int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out int ageCode)
                || !AgeCodes.TryGetValue(ageCode, out string? ageGroup))
            {
                b.Bad.Bad("user id or age code invalid", path, line, text, $"age codes are {string.Join(", ", AgeCodes.Keys)}");
                return;
            }

            if (!int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out int occ) || occ < 0 || occ >= Occupations.Count)
            {
                b.Bad.Bad("occupation code invalid", path, line, text, $"occupation \"{f[3]}\" is not a code 0-{Occupations.Count - 1}");
                return;
            }

            if (f[1] is not ("M" or "F"))
            {
                b.Bad.Bad("gender invalid", path, line, text, $"gender \"{f[1]}\" is not M or F");
                return;
            }

            if (b.Users.TryGet(external, out int id))
            {
                b.SetProfile(new UserProfile(id, f[0], null, ageGroup, f[1], Occupations[occ], f[4], new Dictionary<string, string>()));
            }
        });
    }
}
