using System.Diagnostics;
using System.Globalization;
using Liber.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// The single-owner lock of a store: an exclusive OS lock (flock on Unix, a share-none handle on Windows) on the
/// sidecar file <c>&lt;store&gt;.lock</c>, held for as long as the store is open for writing. The OS drops it when
/// the owner dies, so a stale lock never blocks; the file itself stays (deleting a lock file races with openers).
/// The owner's description (pid, command, host, start time) goes into the lock file for people and into the store's
/// meta table, where a refused opener reads it (it cannot read a file another process holds locked).
/// SQLite's own <c>locking_mode=EXCLUSIVE</c> was not used: in WAL mode it keeps the WAL index in heap memory, so the
/// store's second, read-only connection (and any reader) could no longer read the file.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private readonly FileStream _file;

    private StoreLock(FileStream file, string owner)
    {
        _file = file;
        Owner = owner;
    }

    /// <summary>This process as the owner: pid, command, host and start time.</summary>
    public string Owner { get; }

    /// <summary>The lock file of a store file.</summary>
    public static string LockPath(string fullPath) => fullPath + ".lock";

    /// <summary>Takes the lock of <paramref name="fullPath"/> or throws a <see cref="StoreException"/> naming the owner.</summary>
    public static StoreLock Acquire(string path, string fullPath)
    {
        string lockPath = LockPath(fullPath);
        FileStream file;
        try
        {
            file = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(lockPath))
        {
            throw InUse(path, fullPath, e);
        }

        string owner = Describe();
        try
        {
            file.SetLength(0);
            using var w = new StreamWriter(file, leaveOpen: true);
            w.WriteLine(owner);
            w.Flush();
            file.Flush(flushToDisk: false);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return new StoreLock(file, owner);
    }

    /// <summary>Whether another process or store object holds the lock of <paramref name="fullPath"/> now.</summary>
    public static bool IsHeld(string fullPath)
    {
        string lockPath = LockPath(fullPath);
        if (!File.Exists(lockPath))
        {
            return false;
        }

        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>The owner recorded in the store's meta table (the last process that opened it for writing), or null.</summary>
    public static string? RecordedOwner(string fullPath)
    {
        try
        {
            using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = fullPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            db.Open();
            using SqliteCommand c = db.CreateCommand();
            c.CommandText = "SELECT value FROM meta WHERE key = 'owner'";
            return c.ExecuteScalar() as string;
        }
        catch (SqliteException)
        {
            return null; // the owner is still creating the file, or it is not a store: the message goes without a name
        }
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();

    private static StoreException InUse(string path, string fullPath, Exception inner)
    {
        string? owner = LiveOwner(fullPath);
        string by = owner is null ? "another process" : owner.StartsWith($"process {Environment.ProcessId} ", StringComparison.Ordinal)
            ? $"this process (another open of it: {owner})"
            : owner;
        return new StoreException(StoreProblem.InUse, $"store {path} is in use by {by}; stop it or use another --store (a store has one writer; lock file {LockPath(fullPath)})", inner);
    }

    /// <summary>
    /// The recorded owner, once it is a live process: a new owner writes itself into the meta table a moment after it
    /// takes the lock, and until then the table may still name a dead one. Waits at most about a second.
    /// </summary>
    private static string? LiveOwner(string fullPath)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            if (RecordedOwner(fullPath) is string owner && IsAlive(owner))
            {
                return owner;
            }

            Thread.Sleep(50);
        }

        return null;
    }

    private static bool IsAlive(string owner)
    {
        string[] words = owner.Split(' ', 3);
        if (words.Length < 3 || !int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
        {
            return false;
        }

        if (!owner.Contains($", host {Environment.MachineName}, ", StringComparison.Ordinal))
        {
            return true; // another host's process cannot be checked from here
        }

        try
        {
            using Process p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string Describe()
    {
        string[] args = Environment.GetCommandLineArgs();
        string program = args.Length > 0 ? Path.GetFileNameWithoutExtension(args[0]) : "?";
        string command = args.Length > 1 && !args[1].StartsWith('-') ? $"{program} {args[1]}" : program;
        DateTime started;
        try
        {
            using Process self = Process.GetCurrentProcess();
            started = self.StartTime.ToUniversalTime();
        }
        catch (InvalidOperationException)
        {
            started = DateTime.UtcNow;
        }

        return string.Create(CultureInfo.InvariantCulture, $"process {Environment.ProcessId} ({command}, host {Environment.MachineName}, started {started:yyyy-MM-dd HH:mm:ss}Z)");
    }
}
