using Liber.Core.Storage;

namespace Liber.Store;

/// <summary>Options of the SQLite UBSP store.</summary>
public sealed record SqliteStoreOptions
{
    /// <summary>What to do with an event older than its user's last event (default: reject).</summary>
    public LateEventRule LateEvents { get; init; } = LateEventRule.Reject;

    /// <summary>Durability of a committed batch (default: full, fsync on every commit).</summary>
    public Durability Durability { get; init; } = Durability.Full;

    /// <summary>Applied events between checkpoints of the users' engine states (default 200,000). Recovery replays at most this many events.</summary>
    public int CheckpointEvents { get; init; } = 200_000;

    /// <summary>Users whose engines stay in memory after a checkpoint before the clean ones are dropped (default 100,000).</summary>
    public int MaxLoadedUsers { get; init; } = 100_000;

    /// <summary>Validates the options.</summary>
    public void Validate()
    {
        if (CheckpointEvents < 1 || MaxLoadedUsers < 0)
        {
            throw new ArgumentException($"checkpoint_events must be >= 1 and max_loaded_users >= 0 (got {CheckpointEvents}, {MaxLoadedUsers})");
        }
    }
}
