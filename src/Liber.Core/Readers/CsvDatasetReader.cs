using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>Column mapping of a generic events file. Columns are header names, or 0-based indices when <see cref="Header"/> is false.</summary>
public sealed record CsvEventsMapping
{
    /// <summary>Events file, relative to the data folder.</summary>
    public string File { get; init; } = "events.csv";

    /// <summary>Field delimiter.</summary>
    public string Delimiter { get; init; } = ",";

    /// <summary>Whether the first line names the columns.</summary>
    public bool Header { get; init; } = true;

    /// <summary>User id column.</summary>
    public string User { get; init; } = "user_id";

    /// <summary>Item id column.</summary>
    public string Item { get; init; } = "item_id";

    /// <summary>Timestamp column.</summary>
    public string Timestamp { get; init; } = "timestamp";

    /// <summary>Rating column; null for implicit feedback (every event gets rating 1, a positive under threshold 1).</summary>
    public string? Rating { get; init; } = "rating";

    /// <summary><c>unix</c> (seconds), <c>unix_ms</c> (milliseconds, truncated to seconds), <c>iso8601</c>, or a .NET date format (UTC).</summary>
    public string TimestampFormat { get; init; } = "unix";
}

/// <summary>Column mapping of an optional items file.</summary>
public sealed record CsvItemsMapping
{
    /// <summary>Items file, relative to the data folder.</summary>
    public string File { get; init; } = "items.csv";

    /// <summary>Field delimiter.</summary>
    public string Delimiter { get; init; } = ",";

    /// <summary>Whether the first line names the columns.</summary>
    public bool Header { get; init; } = true;

    /// <summary>Item id column.</summary>
    public string Id { get; init; } = "item_id";

    /// <summary>Title column.</summary>
    public string? Title { get; init; } = "title";

    /// <summary>Year column (optional).</summary>
    public string? Year { get; init; }

    /// <summary>Categories column (optional), split on <see cref="CategorySeparator"/>.</summary>
    public string? Categories { get; init; } = "categories";

    /// <summary>Separator within the categories field.</summary>
    public string CategorySeparator { get; init; } = "|";

    /// <summary>Tags column (optional), split on <see cref="TagSeparator"/>.</summary>
    public string? Tags { get; init; }

    /// <summary>Separator within the tags field.</summary>
    public string TagSeparator { get; init; } = "|";

    /// <summary>Free-text description column (optional).</summary>
    public string? Text { get; init; }
}

/// <summary>The whole mapping of a generic CSV data set (file <c>liber-csv.json</c>).</summary>
public sealed record CsvMapping
{
    /// <summary>The events file.</summary>
    public CsvEventsMapping Events { get; init; } = new();

    /// <summary>The items file; when null, <c>items.csv</c> is read if it exists with the default mapping.</summary>
    public CsvItemsMapping? Items { get; init; }

    /// <summary>Lowest valid rating.</summary>
    public float RatingMin { get; init; } = 1;

    /// <summary>Highest valid rating.</summary>
    public float RatingMax { get; init; } = 5;

    /// <summary>Default label threshold (rating &gt;= threshold is a positive).</summary>
    public float Threshold { get; init; } = 4;

    /// <summary>JSON options: snake_case keys, unknown keys are errors.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    /// <summary>Loads a mapping file; unknown keys and bad values are errors naming the file and the key path.</summary>
    public static CsvMapping Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<CsvMapping>(File.ReadAllText(path), JsonOptions)
                   ?? throw new DataFormatException(path, 0, "mapping is null");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, (e.LineNumber ?? -1) + 1, $"invalid mapping at {e.Path}: {e.Message}");
        }
    }
}

/// <summary>
/// A user's own logs: a delimited events file plus an optional items file, columns named in
/// <c>liber-csv.json</c> (or <see cref="DatasetRequest.MappingFile"/>). Parsed with CsvHelper, strictly UTF-8.
/// </summary>
public sealed class CsvDatasetReader : IDatasetReader
{
    /// <summary>Default mapping file name inside the data folder.</summary>
    public const string MappingFileName = "liber-csv.json";

    /// <inheritdoc />
    public string Kind => "csv";

    /// <inheritdoc />
    public string Description => "your own events file (+ optional items file); columns mapped in liber-csv.json";

    /// <inheritdoc />
    public Dataset Read(DatasetRequest request)
    {
        string dir = DatasetReaders.RequireFolder(request, Kind);
        string mappingPath = request.MappingFile ?? Path.Combine(dir, MappingFileName);
        CsvMapping mapping = File.Exists(mappingPath) ? CsvMapping.Load(mappingPath)
            : request.MappingFile is null ? new CsvMapping()
            : throw new DataFormatException(mappingPath, 0, "mapping file not found");
        var scale = new RatingScale(mapping.RatingMin, mapping.RatingMax, mapping.Threshold);
        if (mapping.Events.Rating is null)
        {
            scale = new RatingScale(1, 1, 1);
        }

        RequireColumns(mappingPath, ("events.file", mapping.Events.File), ("events.user", mapping.Events.User), ("events.item", mapping.Events.Item),
            ("events.timestamp", mapping.Events.Timestamp), ("events.delimiter", mapping.Events.Delimiter), ("events.timestamp_format", mapping.Events.TimestampFormat));
        if (mapping.Items is CsvItemsMapping im)
        {
            RequireColumns(mappingPath, ("items.file", im.File), ("items.id", im.Id), ("items.delimiter", im.Delimiter),
                ("items.category_separator", im.CategorySeparator), ("items.tag_separator", im.TagSeparator));
        }

        var b = new DatasetBuilder(Kind, dir, scale, request.OnBadRow);
        CsvItemsMapping? items = mapping.Items ?? (File.Exists(Path.Combine(dir, "items.csv")) ? new CsvItemsMapping() : null);
        if (items is not null)
        {
            ReadItems(b, Path.Combine(dir, items.File), items, mappingPath);
        }

        ReadEvents(b, Path.Combine(dir, mapping.Events.File), mapping.Events, items?.File, mappingPath);
        return b.Build();
    }

    private static void RequireColumns(string mappingPath, params (string Key, string? Value)[] required)
    {
        foreach (var (key, value) in required)
        {
            if (string.IsNullOrEmpty(value))
            {
                throw new DataFormatException(mappingPath, 0, $"'{key}' must be set (it may not be null or empty)");
            }
        }
    }

    /// <summary>The index of the column the mapping key <paramref name="key"/> names; errors point to that key in the mapping file.</summary>
    private static int Col(string[] header, string? name, string key, bool hasHeader, string path, string mappingPath)
    {
        if (name is null)
        {
            return -1;
        }

        string where = File.Exists(mappingPath) ? mappingPath : $"{mappingPath} (create it)";
        if (hasHeader)
        {
            int c = Array.FindIndex(header, h => string.Equals(h.Trim(), name, StringComparison.OrdinalIgnoreCase));
            return c >= 0 ? c : throw new DataFormatException(path, 1,
                $"no column '{name}' in the header (columns: {string.Join(", ", header)}); set \"{key}\" in {where} to the column that holds it");
        }

        return int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            ? i
            : throw new DataFormatException(path, 0, $"the file has no header, so column '{name}' must be a 0-based index: set \"{key}\" in {where} to a number");
    }

    private static void ReadItems(DatasetBuilder b, string path, CsvItemsMapping m, string mappingPath)
    {
        int id = -1, title = -1, year = -1, cats = -1, tags = -1, text = -1;
        // Columns are resolved from the header as soon as it is read (a header-only file still gets its column errors),
        // or up front when the mapping names columns by index.
        void Resolve(string[] header) =>
            (id, title, year, cats, tags, text) = (Col(header, m.Id, "items.id", m.Header, path, mappingPath), Col(header, m.Title, "items.title", m.Header, path, mappingPath),
                Col(header, m.Year, "items.year", m.Header, path, mappingPath), Col(header, m.Categories, "items.categories", m.Header, path, mappingPath),
                Col(header, m.Tags, "items.tags", m.Header, path, mappingPath), Col(header, m.Text, "items.text", m.Header, path, mappingPath));
        if (!m.Header)
        {
            Resolve([]);
        }

        CsvRows.ForEach(path, m.Delimiter, m.Header, b.Bad, r =>
        {
            int need = new[] { id, title, year, cats, tags, text }.Max() + 1;
            if (r.Fields.Length < need)
            {
                b.Bad.Bad("malformed line", path, r.Line, r.Raw, $"expected at least {need} fields, found {r.Fields.Length}");
                return;
            }

            string ext = r.Fields[id].Trim();
            if (ext.Length == 0)
            {
                b.Bad.Bad("empty item id", path, r.Line, r.Raw);
                return;
            }

            int? y = null;
            if (year >= 0 && r.Fields[year].Trim().Length > 0)
            {
                if (!int.TryParse(r.Fields[year].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int yy))
                {
                    b.Bad.Bad("year is not an integer", path, r.Line, r.Raw, $"year \"{r.Fields[year]}\"");
                    return;
                }

                y = yy;
            }

            string t = title >= 0 ? r.Fields[title].Trim() : ext;
            string[] c = cats >= 0 ? r.Fields[cats].Split(m.CategorySeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
            string[] tg = tags >= 0 ? r.Fields[tags].Split(m.TagSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
            string? tx = text >= 0 && r.Fields[text].Trim().Length > 0 ? r.Fields[text].Trim() : null;
            if (!b.TryAddCatalogItem(ext, i => new Item(i, ext, t, y, c, tg, tx), numeric: false))
            {
                b.Bad.Bad("duplicate item id", path, r.Line, r.Raw, $"item {ext} appears twice");
            }
        }, headerSink: Resolve);
        b.MarkCatalogRead();
    }

    private static void ReadEvents(DatasetBuilder b, string path, CsvEventsMapping m, string? itemsFile, string mappingPath)
    {
        int user = -1, item = -1, ts = -1, rating = -1;
        long rows = 0;
        void Resolve(string[] header) =>
            (user, item, ts, rating) = (Col(header, m.User, "events.user", m.Header, path, mappingPath), Col(header, m.Item, "events.item", m.Header, path, mappingPath),
                Col(header, m.Timestamp, "events.timestamp", m.Header, path, mappingPath), Col(header, m.Rating, "events.rating", m.Header, path, mappingPath));
        if (!m.Header)
        {
            Resolve([]);
        }

        var parseTime = TimestampParser(m.TimestampFormat);
        CsvRows.ForEach(path, m.Delimiter, m.Header, b.Bad, r =>
        {
            rows++;
            int need = Math.Max(Math.Max(user, item), Math.Max(ts, rating)) + 1;
            if (r.Fields.Length < need)
            {
                b.Bad.Bad("malformed line", path, r.Line, r.Raw, $"expected at least {need} fields, found {r.Fields.Length}");
                return;
            }

            string u = r.Fields[user].Trim(), it = r.Fields[item].Trim();
            if (u.Length == 0 || it.Length == 0)
            {
                b.Bad.Bad("empty user or item id", path, r.Line, r.Raw);
                return;
            }

            float value = 1;
            if (rating >= 0 && !float.TryParse(r.Fields[rating].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value))
            {
                b.Bad.Bad("rating is not a number", path, r.Line, r.Raw, $"rating \"{r.Fields[rating]}\"");
                return;
            }

            if (rating >= 0 && EventRules.RatingProblem(value, b.Scale, $"set rating_min/rating_max in {MappingFileName}") is string badRating)
            {
                b.Bad.Bad("rating outside the scale", path, r.Line, r.Raw, badRating);
                return;
            }

            if (!parseTime(r.Fields[ts].Trim(), out long seconds))
            {
                b.Bad.Bad("timestamp not readable", path, r.Line, r.Raw,
                    $"\"{r.Fields[ts]}\" is not {m.TimestampFormat}; set events.timestamp_format in {MappingFileName} (unix, unix_ms, iso8601 or a .NET date format such as yyyy-MM-dd HH:mm:ss)");
                return;
            }

            string? msFix = m.TimestampFormat == "unix" ? $"set events.timestamp_format to unix_ms in {MappingFileName}" : null;
            if (EventRules.TimestampProblem(seconds, msFix) is string badTime)
            {
                b.Bad.Bad("timestamp out of range", path, r.Line, r.Raw, badTime);
                return;
            }

            int itemId;
            if (b.HasCatalog)
            {
                if (!b.Items.TryGet(it.AsSpan(), out itemId))
                {
                    b.Bad.Bad("unknown item id", path, r.Line, r.Raw, $"item {it} is not in {itemsFile}");
                    return;
                }
            }
            else
            {
                itemId = b.EventItem(it.AsSpan());
            }

            b.Events.Add(b.Users.GetOrAdd(u.AsSpan()), itemId, seconds, value);
        }, headerSink: Resolve);
        b.RequireEvents(path, rows, m.Header);
    }

    private delegate bool TimeParser(string text, out long seconds);

    private static TimeParser TimestampParser(string format) => format switch
    {
        "unix" => (string t, out long s) => long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out s),
        "unix_ms" => (string t, out long s) =>
        {
            bool ok = long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms);
            s = ok ? (long)Math.Floor(ms / 1000.0) : 0; // floor, so -500 ms is before 1970 and rejected
            return ok;
        },
        "iso8601" => (string t, out long s) =>
        {
            bool ok = DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d);
            s = ok ? d.ToUnixTimeSeconds() : 0;
            return ok;
        },
        _ => (string t, out long s) =>
        {
            bool ok = DateTimeOffset.TryParseExact(t, format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d);
            s = ok ? d.ToUnixTimeSeconds() : 0;
            return ok;
        },
    };
}
