using System.Globalization;
using Liber.Core.Partitioning;
using Liber.Core.Storage;

namespace Liber.Cluster;

/// <summary>
/// The append logic of one user grain, free of Orleans: applies a batch of the user's events to its
/// <see cref="UserGrainState"/> through the same <see cref="UserPartitioner"/> as the single-process store, with
/// the same accounting (every event applied, duplicate, conflict or rejected, exactly once) and the same late-event
/// rule. Closed partitions go to the state's outbox with their events. The caller persists the state after
/// <see cref="Append"/>; when that write fails, it must drop this ledger and build a new one over the state it reloads.
/// <para>
/// Idempotency is by event id within the user's stream (the grain sees only its user's events): the ids of the last
/// <see cref="UbspSettings.RecentIds"/> applied events are kept with their content. An id not among them whose time is
/// at or before the newest forgotten event's time may be a duplicate of a forgotten event, so it is rejected (never
/// applied twice); with the reject late-event rule, only events at the user's last timestamp can meet that case.
/// </para>
/// </summary>
public sealed class UserLedger
{
    private readonly string _user;
    private readonly UbspSettings _settings;
    private readonly Dictionary<long, PartitionEvent> _recent;

    private readonly bool _countsStats;

    /// <summary>
    /// Wraps the state of user <paramref name="user"/> (its external id); with <paramref name="countsStats"/>, applied
    /// events are also kept in <see cref="UserGrainState.Uncounted"/> until <see cref="Counted"/>.
    /// </summary>
    public UserLedger(string user, UbspSettings settings, UserGrainState state, bool countsStats = false)
    {
        _countsStats = countsStats;
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(state);
        _user = user;
        _settings = settings;
        State = state;
        _recent = new Dictionary<long, PartitionEvent>(state.Recent.Count);
        foreach (PartitionEvent e in state.Recent)
        {
            _recent[e.EventId] = e;
        }
    }

    /// <summary>The state this ledger changes.</summary>
    public UserGrainState State { get; }

    /// <summary>
    /// Applies a batch in order and returns its outcome; <see cref="AppendResult.Closed"/> are the partitions it closed,
    /// also appended to the outbox. The state must have a dense id (<see cref="UserGrainState.DenseId"/>) and been
    /// built under the same policy line as the settings (else <see cref="InvalidOperationException"/>, nothing changed).
    /// </summary>
    public AppendResult Append(IReadOnlyList<UserEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        UserGrainState s = State;
        if (s.Policy is not null && s.Policy != _settings.Description)
        {
            throw new InvalidOperationException($"user {_user} was partitioned under '{s.Policy}'; this cluster runs '{_settings.Description}': partitions closed under other rules would not be comparable");
        }

        if (s.DenseId is not int dense)
        {
            throw new InvalidOperationException($"user {_user} has no dense id yet: assign one before appending");
        }

        s.Policy = _settings.Description;
        int appliedBefore = s.NextIndex;
        var engine = new UserPartitioner(s.ToPartitionState(dense), _settings.Policy, _settings.Caps, _settings.Features);
        var rejected = new List<RejectedEvent>();
        var conflicts = new List<RejectedEvent>();
        var closed = new List<Partition>();
        var appliedIndices = new List<int>();
        var candidates = new List<PartitionEvent>();
        int duplicates = 0;
        for (int i = 0; i < events.Count; i++)
        {
            UserEvent e = events[i];
            int? item = _settings.FindItem(e.Item);
            if (item is null || !float.IsFinite(e.Rating))
            {
                rejected.Add(new RejectedEvent(i, e.EventId, item is null
                    ? $"item '{e.Item}' is not in the catalog ({_settings.ItemCount} items)"
                    : string.Create(CultureInfo.InvariantCulture, $"rating {e.Rating} is not a finite number")));
                continue;
            }

            var pe = new PartitionEvent(e.EventId, item.Value, e.Timestamp, e.Rating);
            if (_recent.TryGetValue(e.EventId, out PartitionEvent first))
            {
                if (SameContent(first, pe))
                {
                    duplicates++;
                }
                else
                {
                    conflicts.Add(new RejectedEvent(i, e.EventId, $"event id {e.EventId} was already applied as ({Content(first)}); this one is ({Content(pe)}): an event id names one event, so other content needs a new id"));
                }

                continue;
            }

            if (s.ForgottenThrough is long forgotten && e.Timestamp <= forgotten)
            {
                rejected.Add(new RejectedEvent(i, e.EventId, string.Create(CultureInfo.InvariantCulture, $"event {e.EventId} of user {_user} at {e.Timestamp} is not among the user's last {_settings.RecentIds} event ids and not newer than the newest forgotten one (at {forgotten}): it may be a duplicate of an event applied long ago, so it is not applied")));
                continue;
            }

            bool late = e.Timestamp < engine.LastTimestamp.GetValueOrDefault(long.MinValue);
            if (late && !(_settings.LateEvents == LateEventRule.InsertIfCacheSpans && engine.CacheSpans(e.Timestamp)))
            {
                string why = _settings.LateEvents == LateEventRule.Reject
                    ? "the late-event rule is reject"
                    : "the short-term cache does not span its time, and closed partitions are immutable";
                rejected.Add(new RejectedEvent(i, e.EventId, string.Create(CultureInfo.InvariantCulture, $"event {e.EventId} of user {_user} at {e.Timestamp} is older than the user's last event at {engine.LastTimestamp} ({why})")));
                continue;
            }

            candidates.Clear();
            candidates.AddRange(engine.Events);
            candidates.Add(pe);
            foreach (Partition p in late ? engine.InsertIntoCache(pe) : engine.Append(pe))
            {
                s.Outbox.Add(new ClosedPartition(p, EventsOf(p, candidates)));
                closed.Add(p);
            }

            _recent[e.EventId] = pe;
            s.Recent.Add(pe);
            appliedIndices.Add(i);
            if (_countsStats)
            {
                if (s.Uncounted.Count == 0)
                {
                    s.UncountedFrom = appliedBefore;
                }

                s.Uncounted.Add(new StatEvent(pe.Item, pe.Rating));
            }
        }

        UserPartitionState saved = engine.Save();
        s.NextIndex = saved.NextIndex;
        s.PartitionCount = saved.PartitionCount;
        s.LastTimestamp = saved.LastTimestamp;
        s.Cache = saved.Cache;
        s.Duplicates += duplicates;
        s.Conflicts += conflicts.Count;
        s.Rejected += rejected.Count;
        Forget();
        if (_countsStats && s.Uncounted.Count == 0)
        {
            s.UncountedFrom = s.NextIndex;
        }
        else if (_countsStats && s.UncountedFrom + s.Uncounted.Count != s.NextIndex)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"user {_user}: {s.Uncounted.Count} uncounted events from number {s.UncountedFrom} do not end at the {s.NextIndex} applied"));
        }

        return new AppendResult { Applied = appliedIndices.Count, AppliedIndices = appliedIndices, Duplicates = duplicates, Conflicts = conflicts, Rejected = rejected, Closed = closed };
    }

    /// <summary>Forgets the uncounted events once the statistics have counted them (the next state write persists that).</summary>
    public void Counted()
    {
        State.Uncounted.Clear();
        State.UncountedFrom = State.NextIndex;
    }

    /// <summary>Removes the outbox's partitions numbered up to <paramref name="throughNumber"/> (handed on); returns how many are left.</summary>
    public int Acknowledge(int throughNumber)
    {
        State.Outbox.RemoveAll(c => c.Partition.Number <= throughNumber);
        return State.Outbox.Count;
    }

    /// <summary>Drops the oldest recent ids beyond the window, remembering the newest time dropped.</summary>
    private void Forget()
    {
        List<PartitionEvent> recent = State.Recent;
        int excess = recent.Count - _settings.RecentIds;
        if (excess <= 0)
        {
            return;
        }

        long newest = State.ForgottenThrough ?? long.MinValue;
        for (int i = 0; i < excess; i++)
        {
            newest = Math.Max(newest, recent[i].Timestamp);
            _recent.Remove(recent[i].EventId);
        }

        recent.RemoveRange(0, excess);
        State.ForgottenThrough = newest;
    }

    private static bool SameContent(PartitionEvent a, PartitionEvent b) =>
        a.Item == b.Item && a.Timestamp == b.Timestamp && RatingBits(a.Rating) == RatingBits(b.Rating);

    /// <summary>Rating bits with -0 as 0, so that equal ratings compare equal (as the single-process store).</summary>
    private static int RatingBits(float rating) => rating == 0 ? 0 : BitConverter.SingleToInt32Bits(rating);

    private string Content(PartitionEvent e) =>
        string.Create(CultureInfo.InvariantCulture, $"user {_user}, item {_settings.ItemName(e.Item)}, at {e.Timestamp}, rating {e.Rating}");

    private PartitionEvent[] EventsOf(Partition p, List<PartitionEvent> candidates)
    {
        var byId = new Dictionary<long, PartitionEvent>(candidates.Count);
        foreach (PartitionEvent e in candidates)
        {
            byId[e.EventId] = e;
        }

        var events = new PartitionEvent[p.EventIds.Length];
        for (int i = 0; i < events.Length; i++)
        {
            events[i] = byId.TryGetValue(p.EventIds[i], out PartitionEvent e)
                ? e
                : throw new InvalidOperationException($"partition {p.Number} of user {_user}: event {p.EventIds[i]} is not among the cached events");
        }

        return events;
    }
}
