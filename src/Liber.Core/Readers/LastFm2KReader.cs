using System.Globalization;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>
/// HetRec 2011 Last.fm 2K (implicit feedback): <c>user_taggedartists.dat</c> (tab: userID, artistID, tagID, day,
/// month, year) gives the events, <c>artists.dat</c> (UTF-8: id, name, url, pictureURL) the catalog, <c>tags.dat</c>
/// (Latin-1: tagID, tagValue) the tag names.
/// </summary>
/// <remarks>
/// Choices (docs/protocol.md, "Implicit feedback"):
/// <list type="bullet">
/// <item>An event is a user's <b>first</b> tag assignment to an artist (the earliest day; on that day, the first row
/// in file order). Later assignments of the same (user, artist) pair, on the same or later days, are folded into
/// it and counted in <see cref="LoadReport.Folded"/>: a repeat is not a new interaction.</item>
/// <item>The timestamp is the assignment's day at 00:00 UTC. A user's events of one day are ordered by a fixed hash of
/// the pair (<see cref="TieKey"/>), not by file order: the file is sorted by artist id within each user, and that order
/// next to drawn negatives tells positives apart (a same-day history climbing in item id up to the target).</item>
/// <item>Every event is a positive (rating 1 on the scale 1..1); negatives are drawn at sampling time.</item>
/// <item>An artist's categories are its <see cref="CategoriesPerArtist"/> most-assigned tags over the whole file
/// (static item metadata, like MovieLens genres: names only, no counts reach a model); its tags the
/// <see cref="TagsPerArtist"/> most-assigned.</item>
/// <item>Artists tagged but missing from <c>artists.dat</c> (390 in the release) are kept as items named by
/// their id and counted in <see cref="LoadReport.Folded"/> under "artists not in artists.dat".</item>
/// <item><c>user_artists.dat</c> (play counts with no time) is not read: no model consumes an event weight yet.</item>
/// </list>
/// </remarks>
public sealed class LastFm2KReader : IDatasetReader
{
    /// <summary>Most-assigned tags kept as an artist's categories.</summary>
    public const int CategoriesPerArtist = 3;

    /// <summary>Most-assigned tags kept as an artist's tags.</summary>
    public const int TagsPerArtist = 10;

    /// <summary>The scale of implicit data: every event is a positive.</summary>
    public static RatingScale Implicit { get; } = new(1, 1, 1);

    private const string TaggedHeader = "userID\tartistID\ttagID\tday\tmonth\tyear";

    /// <inheritdoc />
    public string Kind => "lastfm-2k";

    /// <inheritdoc />
    public string Description => "HetRec 2011 Last.fm 2K folder (user_taggedartists.dat, artists.dat, tags.dat): implicit feedback";

    /// <inheritdoc />
    public Dataset Read(DatasetRequest request)
    {
        string dir = DatasetReaders.RequireFolder(request, Kind);
        var b = new DatasetBuilder(Kind, dir, Implicit, request.OnBadRow);
        var names = ReadArtists(b, Path.Combine(dir, "artists.dat"));
        Dictionary<int, string> tags = ReadTags(b, Path.Combine(dir, "tags.dat"));
        var assignments = new Dictionary<int, Dictionary<int, int>>(); // artist -> tag -> count
        ReadAssignments(b, Path.Combine(dir, "user_taggedartists.dat"), tags, names, assignments);
        foreach ((int artist, Dictionary<int, int> counts) in assignments)
        {
            string[] ranked = [.. counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).Select(c => tags[c.Key])];
            Item item = b.GetItem(artist);
            b.SetItem(item with { Categories = ranked.Take(CategoriesPerArtist).ToArray(), Tags = ranked.Take(TagsPerArtist).ToArray() });
        }

        return b.Build();
    }

    private static HashSet<long> ReadArtists(DatasetBuilder b, string path)
    {
        var known = new HashSet<long>();
        RequireHeader(path, "id\tname\turl\tpictureURL", FileEncoding.Utf8);
        DelimitedText.ForEachRow(path, "\t", FileEncoding.Utf8, (f, line, text) =>
        {
            if (line == 1)
            {
                return;
            }

            if (f.Length != 4)
            {
                b.Bad.Bad("malformed line", path, line, text, $"expected 4 tab-separated fields (id, name, url, pictureURL), found {f.Length}");
                return;
            }

            if (!long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out long id))
            {
                b.Bad.Bad("artist id is not an integer", path, line, text, $"id \"{f[0]}\"");
                return;
            }

            string name = f[1].Trim();
            if (!b.TryAddCatalogItem(f[0], i => new Item(i, f[0], name.Length == 0 ? $"artist {f[0]}" : name, null, [], [], null), numeric: true))
            {
                b.Bad.Bad("duplicate item id", path, line, text, $"artist {f[0]} appears twice");
                return;
            }

            known.Add(id);
        });
        b.MarkCatalogRead();
        return known;
    }

    private static Dictionary<int, string> ReadTags(DatasetBuilder b, string path)
    {
        var tags = new Dictionary<int, string>();
        FileEncoding encoding = File.Exists(path) ? Fields.DetectLatin1OrUtf8(path) : FileEncoding.Latin1;
        RequireHeader(path, "tagID\ttagValue", encoding);
        DelimitedText.ForEachRow(path, "\t", encoding, (f, line, text) =>
        {
            if (line == 1)
            {
                return;
            }

            if (f.Length != 2 || !int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                b.Bad.Bad("malformed line", path, line, text, "expected 'tagID<tab>tagValue' with an integer id");
                return;
            }

            if (!tags.TryAdd(id, f[1].Trim()))
            {
                b.Bad.Bad("duplicate tag id", path, line, text, $"tag {id} appears twice");
            }
        });
        return tags;
    }

    private static void ReadAssignments(DatasetBuilder b, string path, Dictionary<int, string> tags, HashSet<long> catalog, Dictionary<int, Dictionary<int, int>> assignments)
    {
        RequireHeader(path, TaggedHeader, FileEncoding.Utf8);
        var first = new Dictionary<(int User, int Item), (long Timestamp, long Row)>();
        var missing = new HashSet<long>();
        long rows = 0;
        DelimitedText.ForEachRow(path, "\t", FileEncoding.Utf8, (f, line, text) =>
        {
            if (line == 1)
            {
                return;
            }

            rows++;
            if (f.Length != 6)
            {
                b.Bad.Bad("malformed line", path, line, text, $"expected 6 tab-separated fields ({TaggedHeader.Replace('\t', ',')}), found {f.Length}");
                return;
            }

            if (!long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out long user)
                || !long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out long artist)
                || !int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out int tag))
            {
                b.Bad.Bad("id is not an integer", path, line, text, "userID, artistID and tagID must be non-negative integers");
                return;
            }

            if (!tags.ContainsKey(tag))
            {
                b.Bad.Bad("unknown tag", path, line, text, $"tagID {tag} is not in tags.dat");
                return;
            }

            if (!int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out int day)
                || !int.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out int month)
                || !int.TryParse(f[5], NumberStyles.None, CultureInfo.InvariantCulture, out int year)
                || year < 1970 || year > 2099 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
            {
                b.Bad.Bad("invalid date", path, line, text, $"day {f[3]}, month {f[4]}, year {f[5]} is not a date between 1970 and 2099");
                return;
            }

            long ts = new DateTimeOffset(year, month, day, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
            if (!catalog.Contains(artist) && missing.Add(artist))
            {
                b.Report.Fold("artists not in artists.dat (kept, named by id)");
            }

            int item = b.EventItem(artist);
            int u = b.Users.GetOrAdd(user);
            var counts = assignments.TryGetValue(item, out var c) ? c : assignments[item] = [];
            counts[tag] = counts.GetValueOrDefault(tag) + 1;
            if (first.TryGetValue((u, item), out var seen))
            {
                b.Report.Fold("repeat tag assignments (folded into the first event of the pair)");
                if (ts < seen.Timestamp)
                {
                    first[(u, item)] = (ts, rows); // an earlier day further down the file: that row is the first interaction
                }

                return;
            }

            first[(u, item)] = (ts, rows);
        });
        // Events by day, and within a day by a fixed hash of the (user, artist) pair rather than by file order: the file is
        // sorted by artist id within each user, so file order would make a user's same-day history climb in item id up to
        // each positive, which drawn negatives do not, and an order-aware backbone (DIEN's GRU) learned exactly that
        // (docs/protocol.md). Streams keep this order for ties (UserStreams sorts by timestamp, then position).
        foreach (var e in first.OrderBy(e => e.Value.Timestamp).ThenBy(e => TieKey(e.Key.User, e.Key.Item)).ThenBy(e => e.Value.Row))
        {
            b.Events.Add(e.Key.User, e.Key.Item, e.Value.Timestamp, 1f);
        }

        b.RequireEvents(path, rows, header: true);
    }

    /// <summary>
    /// The order of a user's events on one day: SplitMix64's finaliser of the pair's dense ids, a fixed pseudo-random order
    /// unrelated to the ids' order (the same for every load of the same files).
    /// </summary>
    internal static ulong TieKey(int user, int item)
    {
        ulong z = ((ulong)(uint)user << 32 | (uint)item) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static void RequireHeader(string path, string header, FileEncoding encoding)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, 0, "file not found");
        }

        using var reader = new LineReader(path);
        string got = reader.TryReadLine(out ReadOnlySpan<byte> line) ? Fields.Decode(line, encoding, path, 1).Trim() : string.Empty;
        if (!string.Equals(got, header, StringComparison.OrdinalIgnoreCase))
        {
            throw new DataFormatException(path, 1, $"expected the header \"{header.Replace("\t", "<tab>", StringComparison.Ordinal)}\"", got);
        }
    }
}
