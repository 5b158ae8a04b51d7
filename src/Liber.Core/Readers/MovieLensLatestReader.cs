using System.Globalization;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>
/// MovieLens "latest" releases (ml-latest-small, ml-latest, ml-25m, ml-32m): <c>ratings.csv</c>
/// (userId,movieId,rating,timestamp; half stars), <c>movies.csv</c> (movieId,title,genres; RFC 4180
/// quoting), <c>tags.csv</c> (userId,movieId,tag,timestamp; joined onto items).
/// </summary>
public sealed class MovieLensLatestReader : IDatasetReader
{
    /// <inheritdoc />
    public string Kind => "movielens-latest";

    /// <inheritdoc />
    public string Description => "MovieLens latest/25M/32M folder (ratings.csv, movies.csv, tags.csv)";

    /// <inheritdoc />
    public Dataset Read(DatasetRequest request)
    {
        string dir = DatasetReaders.RequireFolder(request, Kind);
        var b = new DatasetBuilder(Kind, dir, RatingScale.HalfStars, request.OnBadRow);
        ReadMovies(b, Path.Combine(dir, "movies.csv"));
        RatingsFile.Read(b, Path.Combine(dir, "ratings.csv"), ",", header: "userId,movieId,rating,timestamp", catalogFile: "movies.csv");
        string tags = Path.Combine(dir, "tags.csv");
        if (File.Exists(tags))
        {
            var joiner = new TagJoiner(b);
            CsvRows.ForEach(tags, ",", hasHeader: true, b.Bad, r =>
            {
                if (r.Fields.Length != 4)
                {
                    b.Bad.Bad("malformed line", tags, r.Line, r.Raw, $"expected 4 fields (userId,movieId,tag,timestamp), found {r.Fields.Length}");
                    return;
                }

                joiner.Add(r.Fields[1], r.Fields[2], tags, r.Line, r.Raw);
            }, ["userId", "movieId", "tag", "timestamp"]);
            joiner.Apply();
        }

        return b.Build();
    }

    private static void ReadMovies(DatasetBuilder b, string path)
    {
        CsvRows.ForEach(path, ",", hasHeader: true, b.Bad, r =>
        {
            if (r.Fields.Length != 3)
            {
                b.Bad.Bad("malformed line", path, r.Line, r.Raw, $"expected 3 fields (movieId,title,genres), found {r.Fields.Length}; quote titles that contain commas");
                return;
            }

            string id = r.Fields[0].Trim();
            if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                b.Bad.Bad("item id is not an integer", path, r.Line, r.Raw, $"movieId \"{id}\"");
                return;
            }

            (string title, int? year) = Fields.SplitTitleYear(r.Fields[1]);
            string[] genres = MovieLens1MReader.SplitGenres(r.Fields[2]);
            if (!b.TryAddCatalogItem(id, i => new Item(i, id, title, year, genres, [], null), numeric: true))
            {
                b.Bad.Bad("duplicate item id", path, r.Line, r.Raw, $"movieId {id} appears twice");
            }
        }, ["movieId", "title", "genres"]);
        b.MarkCatalogRead();
    }
}
