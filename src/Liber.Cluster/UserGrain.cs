using Liber.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Liber.Cluster;

/// <summary>
/// One user's UBSP memory in the cluster, keyed by the external user id. Calls to one user are serialised by Orleans
/// (one activation, not reentrant), so the user's events are applied in the order the grain receives them.
/// </summary>
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>
    /// Applies a batch of the user's events in order and persists the result (engine state, counters, recent ids and
    /// the outbox) in one storage write before returning. When the write fails, the call throws and nothing of the batch
    /// is applied; sending it again is safe (event ids make it idempotent). On a silo with an <see cref="IPartitionSink"/>,
    /// the outbox is then drained into it; when that fails the call throws too, and the resend drains it.
    /// </summary>
    Task<AppendResult> Append(UserEvent[] events);

    /// <summary>The user's counters and short-term cache.</summary>
    Task<UserSnapshot> Snapshot();

    /// <summary>Closed partitions not yet handed on, oldest first, with their events.</summary>
    Task<ClosedPartition[]> Outbox();

    /// <summary>Removes the outbox's partitions numbered up to <paramref name="throughNumber"/> once they are handed on; returns how many are left.</summary>
    Task<int> Acknowledge(int throughNumber);
}

/// <summary>Hands out dense user ids, once per user (grain key 0). Ids are never reused; a failed first write of a user may leave a gap.</summary>
public interface IUserIdGrain : IGrainWithIntegerKey
{
    /// <summary>The next dense user id.</summary>
    Task<int> Allocate();
}

/// <summary>The state of <see cref="IUserIdGrain"/>: the next id to hand out.</summary>
[GenerateSerializer]
[Alias("liber.UserIdState.v1")]
public sealed class UserIdState
{
    /// <summary>The next dense user id.</summary>
    [Id(0)]
    public int Next { get; set; }
}

/// <summary>
/// The user grain: a <see cref="UserLedger"/> over the user's persistent state. With an <see cref="IPartitionSink"/>
/// registered (<see cref="ClusterHosting.AddLiberPostgresTables"/>), the grain drains its own outbox after each state
/// write: the closed partitions go to the sink (write-once), then the outbox is acknowledged, before
/// <see cref="Append"/> returns; a crash in between leaves them in the outbox, drained again on the next activation or
/// call (the sink makes the second write a no-op). Without a sink, closed partitions stay in the outbox.
/// </summary>
/// <param name="state">The user's state in the cluster's storage provider (<see cref="ClusterHosting.StorageName"/>).</param>
/// <param name="settings">The cluster's partitioning settings.</param>
/// <param name="services">The silo's services (the optional <see cref="IPartitionSink"/>, the logger).</param>
public sealed partial class UserGrain(
    [PersistentState("ubsp", ClusterHosting.StorageName)] IPersistentState<UserGrainState> state,
    UbspSettings settings,
    IServiceProvider services) : Grain, IUserGrain
{
    private readonly IPartitionSink? _sink = services.GetService<IPartitionSink>();
    private readonly IStatsSink? _stats = services.GetService<IStatsSink>();
    private readonly ILogger _log = services.GetService<ILogger<UserGrain>>() ?? (ILogger)NullLogger.Instance;
    private UserLedger? _ledger;

    private UserLedger Ledger => _ledger ??= new UserLedger(this.GetPrimaryKeyString(), settings, state.State, countsStats: _stats is not null);

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_sink is not null && state.State.Outbox.Count > 0)
        {
            // Left over by a silo that died between its state write and the drain.
            try
            {
                await Drain();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogDrainFailed(_log, this.GetPrimaryKeyString(), state.State.Outbox.Count, e);
            }
        }

        if (_stats is not null && state.State.Uncounted.Count > 0)
        {
            // Left over by a silo that died between its state write and the count (or counted already: then a no-op).
            try
            {
                await CountStats();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogCountFailed(_log, this.GetPrimaryKeyString(), state.State.Uncounted.Count, e);
            }
        }

        await base.OnActivateAsync(cancellationToken);
    }

    /// <summary>
    /// Applies a batch of the user's events and persists the result; with a sink, also drains the outbox, and with shared
    /// statistics counts the applied events. When the drain or the count fails, the call throws although the events are
    /// durable: the client sends the batch again, its events count as duplicates, and that call drains and counts. So an
    /// acknowledged batch's closed partitions are in the sink and its events in the statistics.
    /// </summary>
    public async Task<AppendResult> Append(UserEvent[] events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Length == 0)
        {
            return new AppendResult();
        }

        AppendResult result;
        try
        {
            if (state.State.DenseId is null)
            {
                // With Liber's tables the database allocates (ids unique per table, whatever the service id); without them
                // (the in-memory test clusters) the user-id grain does.
                state.State.DenseId = _sink is null
                    ? await GrainFactory.GetGrain<IUserIdGrain>(0).Allocate()
                    : await _sink.RegisterUserAsync(this.GetPrimaryKeyString());
            }

            result = Ledger.Append(events);
            await state.WriteStateAsync();
        }
        catch
        {
            // Nothing of the batch is durable: go back to the stored state.
            _ledger = null;
            await state.ReadStateAsync();
            throw;
        }

        if (_sink is not null && state.State.Outbox.Count > 0)
        {
            await Drain();
        }

        if (_stats is not null && state.State.Uncounted.Count > 0)
        {
            await CountStats();
        }

        return result;
    }

    /// <inheritdoc />
    public Task<UserSnapshot> Snapshot()
    {
        UserGrainState s = state.State;
        return Task.FromResult(new UserSnapshot(this.GetPrimaryKeyString(), s.DenseId ?? -1, s.Policy, s.NextIndex, s.PartitionCount, s.LastTimestamp, s.Cache, s.Duplicates, s.Conflicts, s.Rejected, s.Recent.Count, s.Outbox.Count));
    }

    /// <inheritdoc />
    public Task<ClosedPartition[]> Outbox() => Task.FromResult(state.State.Outbox.ToArray());

    /// <inheritdoc />
    public async Task<int> Acknowledge(int throughNumber)
    {
        int before = state.State.Outbox.Count;
        int left = Ledger.Acknowledge(throughNumber);
        if (left != before)
        {
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                _ledger = null;
                await state.ReadStateAsync();
                throw;
            }
        }

        return left;
    }

    /// <summary>Hands the whole outbox to the sink, then acknowledges it (a crash in between repeats the sink's write, a no-op).</summary>
    private async Task Drain()
    {
        ClosedPartition[] outbox = [.. state.State.Outbox];
        await _sink!.SaveAsync(outbox);
        await Acknowledge(outbox[^1].Partition.Number);
    }

    /// <summary>
    /// Counts the uncounted events into the shared statistics, then forgets them in memory (persisted with the next state
    /// write; until then a reactivation counts them again, which the sink skips).
    /// </summary>
    private async Task CountStats()
    {
        UserGrainState s = state.State;
        await _stats!.CountAsync(this.GetPrimaryKeyString(), s.UncountedFrom, [.. s.Uncounted]);
        Ledger.Counted();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "user {User}: counting {Count} events into the shared statistics on activation failed; the next call retries")]
    private static partial void LogCountFailed(ILogger logger, string user, int count, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "user {User}: draining {Count} closed partitions on activation failed; the next call retries")]
    private static partial void LogDrainFailed(ILogger logger, string user, int count, Exception error);
}

/// <summary>The dense user id allocator.</summary>
/// <param name="state">The counter in the cluster's storage provider.</param>
public sealed class UserIdGrain(
    [PersistentState("user-ids", ClusterHosting.StorageName)] IPersistentState<UserIdState> state) : Grain, IUserIdGrain
{
    /// <inheritdoc />
    public async Task<int> Allocate()
    {
        int id = state.State.Next;
        state.State.Next = id + 1;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            await state.ReadStateAsync();
            throw;
        }

        return id;
    }
}
