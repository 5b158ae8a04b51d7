using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;

namespace Liber.Cluster;

/// <summary>
/// Sends a batch of events named by external ids (as <c>POST /v1/events</c> receives them) to the user grains: one call
/// per user, in parallel, each user's events in batch order. The merged result counts every event exactly once, with
/// positions in the original batch. Atomicity is per user: when a call fails, the users whose calls succeeded keep
/// their events, and sending the whole batch again applies only what is missing. User ids follow
/// <see cref="EventRules.IdProblem"/> (as the HTTP API's); an event with an invalid one is rejected here.
/// </summary>
public static class ClusterIngest
{
    /// <summary>Appends <paramref name="events"/> through <paramref name="grains"/> (a cluster client or any silo's grain factory).</summary>
    public static async Task<AppendResult> AppendAsync(IGrainFactory grains, IReadOnlyList<ExternalEvent> events)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(events);
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<string>();
        var rejected = new List<RejectedEvent>();
        for (int i = 0; i < events.Count; i++)
        {
            string? user = events[i].User;
            string? problem = user is null ? "the event has no user id" : EventRules.IdProblem(user) is string why ? $"user id {why}" : null;
            if (problem is not null)
            {
                rejected.Add(new RejectedEvent(i, events[i].EventId, problem));
                continue;
            }

            if (!groups.TryGetValue(user!, out List<int>? rows))
            {
                rows = [];
                groups.Add(user!, rows);
                order.Add(user!);
            }

            rows.Add(i);
        }

        var calls = new Task<AppendResult>[order.Count];
        for (int g = 0; g < order.Count; g++)
        {
            List<int> rows = groups[order[g]];
            var batch = new UserEvent[rows.Count];
            for (int k = 0; k < batch.Length; k++)
            {
                ExternalEvent e = events[rows[k]];
                batch[k] = new UserEvent(e.EventId, e.Item, e.Timestamp, e.Rating);
            }

            calls[g] = grains.GetGrain<IUserGrain>(order[g]).Append(batch);
        }

        AppendResult[] results = await Task.WhenAll(calls).ConfigureAwait(false);
        var applied = new List<int>();
        var conflicts = new List<RejectedEvent>();
        var closed = new List<Partition>();
        int duplicates = 0;
        for (int g = 0; g < results.Length; g++)
        {
            List<int> rows = groups[order[g]];
            AppendResult r = results[g];
            applied.AddRange(r.AppliedIndices.Select(k => rows[k]));
            conflicts.AddRange(r.Conflicts.Select(c => c with { Index = rows[c.Index] }));
            rejected.AddRange(r.Rejected.Select(c => c with { Index = rows[c.Index] }));
            closed.AddRange(r.Closed);
            duplicates += r.Duplicates;
        }

        applied.Sort();
        conflicts.Sort((a, b) => a.Index.CompareTo(b.Index));
        rejected.Sort((a, b) => a.Index.CompareTo(b.Index));
        return new AppendResult { Applied = applied.Count, AppliedIndices = applied, Duplicates = duplicates, Conflicts = conflicts, Rejected = rejected, Closed = closed };
    }
}
