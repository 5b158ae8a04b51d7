using System.Globalization;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>
/// MovieLens 100K: <c>u.data</c> (tab: user, item, rating, unix time), <c>u.item</c> ('|', Latin-1: id, title,
/// release date, video release date, URL, 19 genre flags), <c>u.user</c> ('|': id, age, gender, occupation, zip),
/// and optionally <c>u.genre</c> for the genre names.
/// </summary>
public sealed class MovieLens100KReader : IDatasetReader
{
    /// <summary>The 19 genre names of u.genre, in flag order ("unknown" means no genre).</summary>
    public static IReadOnlyList<string> DefaultGenres { get; } =
    [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
        "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ];

    /// <inheritdoc />
    public string Kind => "movielens-100k";

    /// <inheritdoc />
    public string Description => "MovieLens 100K folder (u.data, u.item, u.user)";

    /// <inheritdoc />
    public Dataset Read(DatasetRequest request)
    {
        string dir = DatasetReaders.RequireFolder(request, Kind);
        var b = new DatasetBuilder(Kind, dir, RatingScale.FiveStars, request.OnBadRow);
        IReadOnlyList<string> genres = ReadGenres(Path.Combine(dir, "u.genre"));
        ReadItems(b, Path.Combine(dir, "u.item"), genres);
        RatingsFile.Read(b, Path.Combine(dir, "u.data"), "\t", header: null, catalogFile: "u.item");
        string users = Path.Combine(dir, "u.user");
        if (File.Exists(users))
        {
            ReadUsers(b, users);
        }

        return b.Build();
    }

    /// <summary>Maps an age in years to the age groups MovieLens 1M uses, so both data sets share a feature.</summary>
    public static string AgeGroup(int age) => age switch
    {
        < 18 => "Under 18",
        <= 24 => "18-24",
        <= 34 => "25-34",
        <= 44 => "35-44",
        <= 49 => "45-49",
        <= 55 => "50-55",
        _ => "56+",
    };

    private static IReadOnlyList<string> ReadGenres(string path)
    {
        if (!File.Exists(path))
        {
            return DefaultGenres;
        }

        var names = new List<string>();
        DelimitedText.ForEachRow(path, "|", FileEncoding.Latin1, (f, line, text) =>
        {
            if (f.Length != 2 || !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index != names.Count)
            {
                throw new DataFormatException(path, line, "expected 'name|index' with indices 0, 1, 2 ... in order", text);
            }

            names.Add(f[0]);
        });
        if (names.Count != DefaultGenres.Count)
        {
            throw new DataFormatException(path, 0, $"expected {DefaultGenres.Count} genres, found {names.Count}");
        }

        return names;
    }

    private static void ReadItems(DatasetBuilder b, string path, IReadOnlyList<string> genres)
    {
        FileEncoding encoding = File.Exists(path) ? Fields.DetectLatin1OrUtf8(path) : FileEncoding.Latin1;
        int expected = 5 + genres.Count;
        DelimitedText.ForEachRow(path, "|", encoding, (f, line, text) =>
        {
            if (f.Length != expected)
            {
                b.Bad.Bad("malformed line", path, line, text, $"expected {expected} fields separated by '|', found {f.Length}");
                return;
            }

            if (!long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                b.Bad.Bad("item id is not an integer", path, line, text, $"item id \"{f[0]}\"");
                return;
            }

            var categories = new List<string>();
            for (int g = 0; g < genres.Count; g++)
            {
                string flag = f[5 + g];
                if (flag != "0" && flag != "1")
                {
                    b.Bad.Bad("genre flag is not 0 or 1", path, line, text, $"flag {g + 1} is \"{flag}\"");
                    return;
                }

                if (flag == "1" && g > 0)
                {
                    categories.Add(genres[g]);
                }
            }

            (string title, int? year) = Fields.SplitTitleYear(f[1]);
            year ??= ReleaseYear(f[2]);
            if (!b.TryAddCatalogItem(f[0], id => new Item(id, f[0], title, year, categories, [], null), numeric: true))
            {
                b.Bad.Bad("duplicate item id", path, line, text, $"item {f[0]} appears twice");
            }
        });
        b.MarkCatalogRead();
    }

    private static int? ReleaseYear(string date) =>
        DateTime.TryParseExact(date, "dd-MMM-yyyy", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime d) ? d.Year : null;

    private static void ReadUsers(DatasetBuilder b, string path)
    {
        DelimitedText.ForEachRow(path, "|", FileEncoding.Latin1, (f, line, text) =>
        {
            if (f.Length != 5)
            {
                b.Bad.Bad("malformed line", path, line, text, $"expected 5 fields (id|age|gender|occupation|zip), found {f.Length}");
                return;
            }

            if (!long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out long external)
                || !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int age))
            {
                b.Bad.Bad("user id or age is not an integer", path, line, text);
                return;
            }

            if (b.Users.TryGet(external, out int id))
            {
                b.SetProfile(new UserProfile(id, f[0], age, AgeGroup(age), f[2], f[3], f[4], new Dictionary<string, string>()));
            }
        });
    }
}
