using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Liber.Interests.Learning;

/// <summary>A cached, validated LLM answer.</summary>
/// <param name="Text">The answer text (already validated when stored).</param>
/// <param name="PromptTokens">Prompt tokens of the call that produced it.</param>
/// <param name="CompletionTokens">Completion tokens of that call.</param>
public sealed record CachedAnswer(string Text, long PromptTokens, long CompletionTokens);

/// <summary>
/// Content-addressed SQLite cache of validated answers (WAL journal, one row per key, first writer wins).
/// The key (<see cref="Key"/>) is the SHA-256 of the template version, backend, model, sampling parameters
/// and the rendered prompt, so the same question never reaches the LLM twice, across runs and processes. A
/// row is written only after its answer was validated, in one atomic statement, so a killed process leaves
/// either the whole answer or nothing.
/// </summary>
public sealed class ResponseCache : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    /// <summary>Opens (or creates) a cache file.</summary>
    public ResponseCache(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"cache folder '{dir}' does not exist");
        }

        Path = path;
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("PRAGMA synchronous=NORMAL;");
        Execute("PRAGMA busy_timeout=10000;");
        Execute("""
            CREATE TABLE IF NOT EXISTS answers (
                key TEXT PRIMARY KEY,
                text TEXT NOT NULL,
                prompt_tokens INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL,
                backend TEXT NOT NULL,
                model TEXT NOT NULL,
                template_version TEXT NOT NULL,
                created_utc TEXT NOT NULL
            ) WITHOUT ROWID;
            """);
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }

    /// <summary>Number of stored answers.</summary>
    public long Count
    {
        get
        {
            lock (_gate)
            {
                using var cmd = _connection.CreateCommand();
                cmd.CommandText = "SELECT COUNT(*) FROM answers";
                return (long)cmd.ExecuteScalar()!;
            }
        }
    }

    /// <summary>The cache key of a request: SHA-256 (hex) over every part that changes the answer.</summary>
    public static string Key(string templateVersion, string backend, string model, string sampling, string system, string user)
    {
        var sb = new StringBuilder();
        foreach (string part in new[] { templateVersion, backend, model, sampling, system, user })
        {
            // Length-prefixed so that no two different part lists hash the same text.
            sb.Append(part.Length).Append(':').Append(part).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>The stored answer for a key, if any.</summary>
    public CachedAnswer? Get(string key)
    {
        lock (_gate)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT text, prompt_tokens, completion_tokens FROM answers WHERE key = $k";
            cmd.Parameters.AddWithValue("$k", key);
            using var r = cmd.ExecuteReader();
            return r.Read() ? new CachedAnswer(r.GetString(0), r.GetInt64(1), r.GetInt64(2)) : null;
        }
    }

    /// <summary>Stores a validated answer; returns false (and keeps the first) when the key is already stored.</summary>
    public bool Put(string key, CachedAnswer answer, string backend, string model, string templateVersion)
    {
        lock (_gate)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = """
                INSERT OR IGNORE INTO answers (key, text, prompt_tokens, completion_tokens, backend, model, template_version, created_utc)
                VALUES ($k, $t, $p, $c, $b, $m, $v, $d)
                """;
            cmd.Parameters.AddWithValue("$k", key);
            cmd.Parameters.AddWithValue("$t", answer.Text);
            cmd.Parameters.AddWithValue("$p", answer.PromptTokens);
            cmd.Parameters.AddWithValue("$c", answer.CompletionTokens);
            cmd.Parameters.AddWithValue("$b", backend);
            cmd.Parameters.AddWithValue("$m", model);
            cmd.Parameters.AddWithValue("$v", templateVersion);
            cmd.Parameters.AddWithValue("$d", DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            return cmd.ExecuteNonQuery() == 1;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _connection.Dispose();

    private void Execute(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
