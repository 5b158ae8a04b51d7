using System.Text;
using Liber.Core.Data;

namespace Liber.Core.Readers;

/// <summary>
/// Reads the numeric "user, item, rating, timestamp" event files that all MovieLens releases share
/// (tab-separated u.data, "::"-separated ratings.dat, comma-separated ratings.csv). Hand-written over
/// byte spans (no per-line string, no regex) because this is the hot path: it must reach 1M+ events/s.
/// </summary>
public static class RatingsFile
{
    /// <summary>Reads every event line of <paramref name="path"/> into the builder.</summary>
    /// <param name="builder">Receives the events; its catalog, if any, decides which item ids are known.</param>
    /// <param name="path">The file.</param>
    /// <param name="separator">The field separator ("\t", "::", ",").</param>
    /// <param name="header">The expected header line, or null when the file has none.</param>
    /// <param name="catalogFile">Name of the metadata file, for messages about unknown items.</param>
    public static void Read(DatasetBuilder builder, string path, string separator, string? header, string? catalogFile)
    {
        byte[] sep = Encoding.ASCII.GetBytes(separator);
        string sepName = separator == "\t" ? "tabs" : $"'{separator}'";
        Span<Range> f = stackalloc Range[4];
        using var reader = new LineReader(path);
        BadRowHandler bad = builder.Bad;
        RatingScale scale = builder.Scale;
        bool first = true;
        long rows = 0;
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            long ln = reader.LineNumber;
            if (first)
            {
                first = false;
                if (header is not null)
                {
                    string got = Encoding.Latin1.GetString(line).Trim();
                    if (!string.Equals(got, header, StringComparison.OrdinalIgnoreCase))
                    {
                        throw new DataFormatException(path, ln, $"expected the header \"{header}\"", got);
                    }

                    continue;
                }
            }

            if (line.IsEmpty)
            {
                continue; // blank lines (a trailing newline) carry no event
            }

            rows++;

            int n = Fields.Split(line, sep, f);
            if (n != 4)
            {
                bad.Bad("malformed line", path, ln, Text(line), $"expected 4 fields (user, item, rating, timestamp) separated by {sepName}, found {n}");
                continue;
            }

            if (!Fields.TryLong(line[f[0]], out long user))
            {
                bad.Bad("user id is not an integer", path, ln, Text(line), $"user id \"{Text(line[f[0]])}\"");
                continue;
            }

            if (!Fields.TryLong(line[f[1]], out long itemId))
            {
                bad.Bad("item id is not an integer", path, ln, Text(line), $"item id \"{Text(line[f[1]])}\"");
                continue;
            }

            if (!Fields.TryFloat(line[f[2]], out float rating))
            {
                bad.Bad("rating is not a number", path, ln, Text(line), $"rating \"{Text(line[f[2]])}\"");
                continue;
            }

            if (EventRules.RatingProblem(rating, scale, $"{builder.Kind} ratings are on this scale only") is string badRating)
            {
                bad.Bad("rating outside the scale", path, ln, Text(line), badRating);
                continue;
            }

            if (!Fields.TryLong(line[f[3]], out long ts))
            {
                bad.Bad("timestamp is not an integer", path, ln, Text(line), $"timestamp \"{Text(line[f[3]])}\"");
                continue;
            }

            if (EventRules.TimestampProblem(ts, "the file must hold unix seconds") is string badTime)
            {
                bad.Bad("timestamp out of range", path, ln, Text(line), badTime);
                continue;
            }

            int item;
            if (builder.HasCatalog)
            {
                if (!builder.Items.TryGet(itemId, out item))
                {
                    bad.Bad("unknown item id", path, ln, Text(line), $"item {itemId} is not in {catalogFile ?? "the item file"}");
                    continue;
                }
            }
            else
            {
                item = builder.EventItem(itemId);
            }

            builder.Events.Add(builder.Users.GetOrAdd(user), item, ts, rating);
        }

        builder.RequireEvents(path, rows, header is not null);
    }

    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}
