using Microsoft.Data.Sqlite;

namespace Liber.Store;

/// <summary>
/// What the store's roles share: the one writer connection (every write goes through it, inside the transaction its
/// caller hands over), the file, and the gate that guards the in-memory id maps and catalog.
/// </summary>
/// <remarks>
/// Locking, as <see cref="SqlitePartitionStore"/> arranges it: the store's writer lock serialises every write (group
/// commits, catalog changes, leases, outcomes); <see cref="IdsGate"/> is taken inside it, or alone by request threads
/// that only read the id maps and the catalog; the job queue's read connection has a gate of its own.
/// </remarks>
/// <param name="db">The writer connection.</param>
/// <param name="path">The store file (full path).</param>
/// <param name="owner">The object that names the store in an <see cref="ObjectDisposedException"/>.</param>
internal sealed class StoreContext(SqliteConnection db, string path, object owner)
{
    /// <summary>The writer connection.</summary>
    public SqliteConnection Db { get; } = db;

    /// <summary>The store file (full path).</summary>
    public string Path { get; } = path;

    /// <summary>The object that names the store in an <see cref="ObjectDisposedException"/>.</summary>
    public object Owner { get; } = owner;

    /// <summary>Guards the external user ids and the item catalog held in memory.</summary>
    public object IdsGate { get; } = new();
}
