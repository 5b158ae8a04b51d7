using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Liber.Serve.Load;

/// <summary>Request bodies of the HTTP contract (snake_case), written straight to UTF-8.</summary>
internal static class Payloads
{
    /// <summary>MovieLens genre names: seeded items get one to three of them.</summary>
    public static readonly string[] Genres =
    [
        "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
        "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ];

    /// <summary>Item ids "1".."n" (the MovieLens external ids, so a MovieLens checkpoint knows them).</summary>
    public static string ItemId(int index) => (index + 1).ToString(CultureInfo.InvariantCulture);

    public static byte[] Events(IReadOnlyList<EventRow> events)
    {
        var buffer = new ArrayBufferWriter<byte>(events.Count * 96);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("events");
            foreach (EventRow e in events)
            {
                w.WriteStartObject();
                w.WriteNumber("event_id", e.EventId);
                w.WriteString("user", e.User);
                w.WriteString("item", e.Item);
                w.WriteNumber("timestamp", e.Timestamp);
                w.WriteNumber("rating", e.Rating);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Items(int from, int count, Random rng)
    {
        var buffer = new ArrayBufferWriter<byte>(count * 96);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            for (int i = from; i < from + count; i++)
            {
                w.WriteStartObject();
                w.WriteString("id", ItemId(i));
                w.WriteString("title", string.Create(CultureInfo.InvariantCulture, $"Load item {i + 1}"));
                w.WriteStartArray("categories");
                foreach (string g in Genres.OrderBy(_ => rng.Next()).Take(rng.Next(1, 4)))
                {
                    w.WriteStringValue(g);
                }

                w.WriteEndArray();
                w.WriteStartArray("tags");
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Rank(string user, IEnumerable<string> candidates)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("user", user);
            w.WriteStartArray("candidates");
            foreach (string c in candidates)
            {
                w.WriteStringValue(c);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>One synthetic event.</summary>
internal readonly record struct EventRow(long EventId, string User, string Item, long Timestamp, float Rating);
