using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Liber.Knowledge.Cache;

/// <summary>
/// A content-addressed embedding cache: (encoder id, SHA-256 of the UTF-8 text) -> vector, in one SQLite file, so that
/// no text is encoded twice across runs.
/// </summary>
/// <remarks>
/// SQLite (WAL) rather than a memory-mapped file: it is crash-safe mid-run (each batch commits), several processes may
/// share one cache, and lookups (tens of thousands per second) are never the bottleneck next to an encoder that does
/// about a hundred texts per second. Vectors are little-endian float32 blobs; encoder ids are interned in a side table.
/// An instance is not thread-safe (one connection).
/// </remarks>
public sealed class EmbeddingCache : IDisposable
{
    private const int SchemaVersion = 1;
    private readonly SqliteConnection connection;
    private readonly Dictionary<string, long> encoderKeys = new(StringComparer.Ordinal);

    private EmbeddingCache(SqliteConnection connection, string location)
    {
        this.connection = connection;
        Location = location;
    }

    /// <summary>The file, or <c>:memory:</c>.</summary>
    public string Location { get; }

    /// <summary>Opens (creating if absent) the cache file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a Liber embedding cache.</exception>
    public static EmbeddingCache Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"embedding cache {full}: folder {dir} does not exist");
        }

        var builder = new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false, DefaultTimeout = 30 };
        return Initialise(new SqliteConnection(builder.ToString()), full, wal: true);
    }

    /// <summary>A cache that lives only as long as this instance (dedup within a run, nothing persisted).</summary>
    public static EmbeddingCache InMemory() =>
        Initialise(new SqliteConnection("Data Source=:memory:;Pooling=False"), ":memory:", wal: false);

    /// <summary>SHA-256 of the UTF-8 bytes of <paramref name="text"/> exactly as given (32 bytes).</summary>
    public static byte[] HashText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> bytes = max <= 4096 ? stackalloc byte[max] : new byte[max];
        int n = Encoding.UTF8.GetBytes(text, bytes);
        return SHA256.HashData(bytes[..n]);
    }

    /// <summary>Vectors cached for <paramref name="encoder"/>.</summary>
    public long Count(EncoderInfo encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM embeddings e JOIN encoders k ON k.id = e.encoder WHERE k.key = $key";
        cmd.Parameters.AddWithValue("$key", encoder.Id);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Fills <paramref name="found"/>[i] with the cached vector of <paramref name="hashes"/>[i], or null; returns the hits.</summary>
    /// <exception cref="InvalidDataException">A stored vector has the wrong length (a damaged file).</exception>
    public int Lookup(EncoderInfo encoder, IReadOnlyList<byte[]> hashes, float[]?[] found)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(found);
        if (found.Length < hashes.Count)
        {
            throw new ArgumentException($"{nameof(found)} holds {found.Length} slots for {hashes.Count} hashes", nameof(found));
        }

        long? key = EncoderKey(encoder, create: false);
        if (key is null)
        {
            Array.Clear(found, 0, hashes.Count);
            return 0;
        }

        int hits = 0;
        using var tx = connection.BeginTransaction(deferred: true);
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT vector FROM embeddings WHERE encoder = $e AND hash = $h";
        cmd.Parameters.AddWithValue("$e", key.Value);
        var h = cmd.Parameters.Add("$h", SqliteType.Blob);
        cmd.Prepare();
        for (int i = 0; i < hashes.Count; i++)
        {
            h.Value = hashes[i];
            using var reader = cmd.ExecuteReader();
            if (!reader.Read())
            {
                found[i] = null;
                continue;
            }

            byte[] blob = (byte[])reader.GetValue(0);
            if (blob.Length != encoder.Dimension * sizeof(float))
            {
                throw new InvalidDataException($"embedding cache {Location}: the vector of text {Convert.ToHexString(hashes[i])} for encoder {encoder.Id} has {blob.Length} bytes, expected {encoder.Dimension * sizeof(float)}; delete the file to rebuild it");
            }

            found[i] = FromBlob(blob);
            hits++;
        }

        tx.Commit();
        return hits;
    }

    /// <summary>Stores vectors (one transaction); a (encoder, hash) already present is left as it is.</summary>
    public void Store(EncoderInfo encoder, IReadOnlyList<byte[]> hashes, IReadOnlyList<ReadOnlyMemory<float>> vectors)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(vectors);
        if (hashes.Count != vectors.Count)
        {
            throw new ArgumentException($"{hashes.Count} hashes for {vectors.Count} vectors");
        }

        try
        {
            StoreInTransaction(encoder, hashes, vectors);
        }
        catch
        {
            // The encoder row may have been created in the rolled-back transaction.
            encoderKeys.Remove(encoder.Id);
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => connection.Dispose();

    private void StoreInTransaction(EncoderInfo encoder, IReadOnlyList<byte[]> hashes, IReadOnlyList<ReadOnlyMemory<float>> vectors)
    {
        using var tx = connection.BeginTransaction();
        long key = EncoderKey(encoder, create: true, tx)!.Value;
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT OR IGNORE INTO embeddings(encoder, hash, vector) VALUES ($e, $h, $v)";
        cmd.Parameters.AddWithValue("$e", key);
        var h = cmd.Parameters.Add("$h", SqliteType.Blob);
        var v = cmd.Parameters.Add("$v", SqliteType.Blob);
        cmd.Prepare();
        for (int i = 0; i < hashes.Count; i++)
        {
            if (vectors[i].Length != encoder.Dimension)
            {
                throw new ArgumentException($"vector {i} has {vectors[i].Length} dimensions, encoder {encoder.Id} has {encoder.Dimension}");
            }

            h.Value = hashes[i];
            v.Value = ToBlob(vectors[i].Span);
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
    }

    /// <summary>Little-endian float32 bytes of a vector.</summary>
    internal static byte[] ToBlob(ReadOnlySpan<float> vector)
    {
        var blob = new byte[vector.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(vector).CopyTo(blob);
        }
        else
        {
            for (int i = 0; i < vector.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(blob.AsSpan(i * sizeof(float)), vector[i]);
            }
        }

        return blob;
    }

    /// <summary>A vector from little-endian float32 bytes.</summary>
    internal static float[] FromBlob(ReadOnlySpan<byte> blob)
    {
        var vector = new float[blob.Length / sizeof(float)];
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] = BinaryPrimitives.ReadSingleLittleEndian(blob[(i * sizeof(float))..]);
        }

        return vector;
    }

    private static EmbeddingCache Initialise(SqliteConnection connection, string location, bool wal)
    {
        try
        {
            connection.Open();
            using var cmd = connection.CreateCommand();
            if (wal)
            {
                cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
                cmd.ExecuteNonQuery();
            }

            cmd.CommandText = """
                CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS encoders(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, dimension INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS embeddings(encoder INTEGER NOT NULL REFERENCES encoders(id), hash BLOB NOT NULL, vector BLOB NOT NULL, PRIMARY KEY(encoder, hash)) WITHOUT ROWID;
                INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '1');
                SELECT value FROM meta WHERE key = 'schema';
                """;
            string? schema = cmd.ExecuteScalar() as string;
            if (schema != SchemaVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw new InvalidDataException($"embedding cache {location}: schema version '{schema}' is not {SchemaVersion}; use another file or delete this one");
            }

            return new EmbeddingCache(connection, location);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new InvalidDataException($"embedding cache {location}: not a usable SQLite database ({e.Message}); use another file or delete this one", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private long? EncoderKey(EncoderInfo encoder, bool create, SqliteTransaction? tx = null)
    {
        string id = encoder.Id;
        if (encoderKeys.TryGetValue(id, out long key))
        {
            return key;
        }

        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT id, dimension FROM encoders WHERE key = $key";
        cmd.Parameters.AddWithValue("$key", id);
        using (var reader = cmd.ExecuteReader())
        {
            if (reader.Read())
            {
                key = reader.GetInt64(0);
                encoderKeys[id] = key;
                return key;
            }
        }

        if (!create)
        {
            return null;
        }

        cmd.CommandText = "INSERT INTO encoders(key, dimension) VALUES ($key, $dim) RETURNING id";
        cmd.Parameters.AddWithValue("$dim", encoder.Dimension);
        key = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        encoderKeys[id] = key;
        return key;
    }
}
