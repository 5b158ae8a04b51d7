using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Liber.Core.Partitioning;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>The SQL helpers and row codecs the store's roles share (meta rows, partitions, cached events, vectors).</summary>
internal static class StoreRows
{
    private const int EventBytes = 24;

    public static void Execute(SqliteConnection db, string sql, SqliteTransaction? tx = null)
    {
        using SqliteCommand c = db.CreateCommand();
        c.CommandText = sql;
        c.Transaction = tx;
        c.ExecuteNonQuery();
    }

    public static string? GetMeta(SqliteConnection db, SqliteTransaction? tx, string key)
    {
        using SqliteCommand get = db.CreateCommand();
        get.Transaction = tx;
        get.CommandText = "SELECT value FROM meta WHERE key = $k";
        get.Parameters.AddWithValue("$k", key);
        return get.ExecuteScalar() as string;
    }

    public static void SetMeta(SqliteConnection db, SqliteTransaction tx, string key, string value)
    {
        using SqliteCommand set = db.CreateCommand();
        set.Transaction = tx;
        set.CommandText = "INSERT INTO meta(key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        set.Parameters.AddWithValue("$k", key);
        set.Parameters.AddWithValue("$v", value);
        set.ExecuteNonQuery();
    }

    /// <summary>A prepared command on <paramref name="db"/> with the named parameters, values bound per use.</summary>
    public static SqliteCommand Prepare(SqliteConnection db, string sql, params string[] parameters)
    {
        SqliteCommand c = db.CreateCommand();
        c.CommandText = sql;
        foreach (string p in parameters)
        {
            c.Parameters.Add(new SqliteParameter { ParameterName = p });
        }

        return c;
    }

    /// <summary>A partition from a row whose columns 0..7 are number, start, end, start time, end time, prompt tokens, content hash, event ids.</summary>
    public static Partition ReadPartition(int user, SqliteDataReader r)
    {
        byte[] blob = (byte[])r[7];
        var ids = new long[blob.Length / 8];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = BinaryPrimitives.ReadInt64LittleEndian(blob.AsSpan(i * 8));
        }

        return new Partition(user, r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetInt64(3), r.GetInt64(4), ids, r.GetInt32(5), r.GetString(6));
    }

    public static byte[] EncodeCache(ReadOnlySpan<PartitionEvent> cache)
    {
        var blob = new byte[cache.Length * EventBytes];
        for (int i = 0; i < cache.Length; i++)
        {
            Span<byte> b = blob.AsSpan(i * EventBytes, EventBytes);
            BinaryPrimitives.WriteInt64LittleEndian(b, cache[i].EventId);
            BinaryPrimitives.WriteInt32LittleEndian(b[8..], cache[i].Item);
            BinaryPrimitives.WriteInt64LittleEndian(b[12..], cache[i].Timestamp);
            BinaryPrimitives.WriteSingleLittleEndian(b[20..], cache[i].Rating);
        }

        return blob;
    }

    public static PartitionEvent[] DecodeCache(byte[] blob)
    {
        var cache = new PartitionEvent[blob.Length / EventBytes];
        for (int i = 0; i < cache.Length; i++)
        {
            ReadOnlySpan<byte> b = blob.AsSpan(i * EventBytes, EventBytes);
            cache[i] = new PartitionEvent(
                BinaryPrimitives.ReadInt64LittleEndian(b),
                BinaryPrimitives.ReadInt32LittleEndian(b[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(b[12..]),
                BinaryPrimitives.ReadSingleLittleEndian(b[20..]));
        }

        return cache;
    }

    public static byte[] ToBytes(float[] v) => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    public static float[] ToFloats(byte[] b)
    {
        var v = new float[b.Length / 4];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(i * 4));
        }

        return v;
    }
}
