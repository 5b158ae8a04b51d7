using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Liber.Core.Partitioning;

/// <summary>One event as the partition engine sees it. <see cref="EventId"/> is unique per user (the source position in batch mode).</summary>
public readonly record struct PartitionEvent(long EventId, int Item, long Timestamp, float Rating);

/// <summary>
/// An immutable long-term partition of a user's stream: the contiguous index range [Start, End], its
/// events' ids, its time span, the prompt tokens of its rendered items and a stable content hash.
/// </summary>
/// <param name="User">Dense user id.</param>
/// <param name="Number">0-based number of the partition within the user's memory.</param>
/// <param name="Start">Index of its first event in the user's stream.</param>
/// <param name="End">Index of its last event (inclusive).</param>
/// <param name="StartTime">Timestamp of its first event.</param>
/// <param name="EndTime">Timestamp of its last event.</param>
/// <param name="EventIds">Ids of its events, in stream order.</param>
/// <param name="PromptTokens">Prompt tokens of its rendered event lines.</param>
/// <param name="ContentHash">SHA-256 (hex, 32 chars) over its events' ids, items, timestamps and ratings.</param>
public sealed record Partition(int User, int Number, int Start, int End, long StartTime, long EndTime, long[] EventIds, int PromptTokens, string ContentHash)
{
    /// <summary>Number of events.</summary>
    public int Count => End - Start + 1;

    /// <summary>Computes the content hash of a run of events.</summary>
    public static string Hash(ReadOnlySpan<PartitionEvent> events)
    {
        Span<byte> buffer = events.Length <= 128 ? stackalloc byte[events.Length * 24] : new byte[events.Length * 24];
        for (int i = 0; i < events.Length; i++)
        {
            Span<byte> b = buffer.Slice(i * 24, 24);
            BinaryPrimitives.WriteInt64LittleEndian(b, events[i].EventId);
            BinaryPrimitives.WriteInt32LittleEndian(b[8..], events[i].Item);
            BinaryPrimitives.WriteInt64LittleEndian(b[12..], events[i].Timestamp);
            BinaryPrimitives.WriteSingleLittleEndian(b[20..], events[i].Rating);
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer, hash);
        return Convert.ToHexStringLower(hash[..16]);
    }
}
