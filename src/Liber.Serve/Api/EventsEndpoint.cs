using Liber.Core.Data;
using Liber.Core.Storage;
using Microsoft.AspNetCore.Http;

namespace Liber.Serve.Api;

/// <summary>
/// <c>POST /v1/events</c>: reads the body into <see cref="EventsRequest"/>, checks every event with the readers' rules
/// (<see cref="EventDto.Validate"/>, <see cref="EventRules"/>: ids, the time range with its milliseconds hint, the service's
/// rating scale) and refuses the whole batch with one 400 listing every bad field
/// (<c>events[3].timestamp</c>) when any is invalid, so nothing invalid reaches the store; a valid batch goes to the store
/// whole, and its answer lists what the store applied, found duplicate, conflicting or late.
/// </summary>
internal static class EventsEndpoint
{
    /// <summary>Handles a request.</summary>
    public static async Task<IResult> HandleAsync(HttpRequest request, ServeState state)
    {
        (EventsRequest? body, IResult? error) = await RequestJson.ReadAsync<EventsRequest>(request, state.Options.MaxBodyBytes).ConfigureAwait(false);
        if (body is null)
        {
            return error!;
        }

        if (Errors.Check(body.Validate(state.Options)) is IResult invalid)
        {
            return invalid;
        }

        ExternalEvent[] events = [.. body.Events.Select(e => e.ToEvent())];
        AppendResult result = await state.Store.AppendAsync(events).ConfigureAwait(false);
        state.CountApplied(events, result);
        return Results.Ok(Answer(result, state));
    }

    /// <summary>The answer to an applied batch; counts the outcome in the metrics and wakes the worker when partitions closed.</summary>
    internal static EventsResponse Answer(AppendResult result, ServeState state)
    {
        ServeMetrics m = state.Metrics;
        m.EventsApplied.Inc(result.Applied);
        m.EventsDuplicate.Inc(result.Duplicates);
        m.EventsConflict.Inc(result.Conflicts.Count);
        m.EventsRejected.Inc(result.Rejected.Count);
        if (result.Closed.Count > 0)
        {
            m.PartitionsClosed.Inc(result.Closed.Count);
            state.Invalidate(result.Closed.Select(p => p.User));
            state.Signal();
        }

        return new EventsResponse(
            result.Applied,
            result.Duplicates,
            [.. result.Conflicts.Select(r => new RejectedDto(r.Index, r.EventId, r.Reason))],
            [.. result.Rejected.Select(r => new RejectedDto(r.Index, r.EventId, r.Reason))],
            [.. result.Closed.Select(p => new ClosedPartitionDto(state.Store.UserName(p.User), p.Number, p.Start, p.End, p.Count, p.StartTime, p.EndTime))]);
    }

    /// <summary>The scale as <c>--rating-scale</c> writes it.</summary>
    internal static string ScaleText(RatingScale scale) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{scale.Min}:{scale.Max}{(scale.Step is float s ? $":{s}" : "")}");
}
