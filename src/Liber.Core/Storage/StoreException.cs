namespace Liber.Core.Storage;

/// <summary>What is wrong with a store file that its user can fix.</summary>
public enum StoreProblem
{
    /// <summary>Another process (or another open in this one) owns the store.</summary>
    InUse,

    /// <summary>The file is not a Liber store (not SQLite, damaged, or another program's database).</summary>
    NotAStore,

    /// <summary>The store's event log cannot be replayed: it must be rebuilt into a new file.</summary>
    Unrecoverable,

    /// <summary>
    /// Part of a distributed store is briefly unreachable (a cluster silo died and its users are moving): nothing of the
    /// failed call's users is half-applied, and sending the request again is safe (the service answers 503).
    /// </summary>
    Unavailable,
}

/// <summary>A store file problem a user can act on; the message is one line naming the file and the fix.</summary>
public sealed class StoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreException(StoreProblem problem, string message, Exception? inner = null)
        : base(message, inner)
    {
        Problem = problem;
    }

    /// <summary>Creates the exception (serialization-free callers use the other constructor).</summary>
    public StoreException()
        : this(StoreProblem.NotAStore, "store problem")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreException(string message)
        : this(StoreProblem.NotAStore, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreException(string message, Exception inner)
        : this(StoreProblem.NotAStore, message, inner)
    {
    }

    /// <summary>What is wrong.</summary>
    public StoreProblem Problem { get; }
}
