using System.Text.Json;
using Liber.Core.Data;
using Liber.Core.Storage;
using Microsoft.AspNetCore.Http;

namespace Liber.Serve.Api;

/// <summary>
/// <c>POST /v1/events</c>: checks every event with the readers' rules (<see cref="EventRules"/>: ids, the time range with its
/// milliseconds hint, the service's rating scale) and refuses the whole batch with one 400 listing every bad field
/// (<c>events[3].timestamp</c>) when any is invalid, so nothing invalid reaches the store; a valid batch goes to the store
/// whole, and its answer lists what the store applied, found duplicate, conflicting or late.
/// </summary>
internal static class EventsEndpoint
{
    /// <summary>The fix a milliseconds-looking timestamp is told.</summary>
    private const string MillisecondsFix = "send unix seconds";

    /// <summary>Handles a request.</summary>
    public static async Task<IResult> HandleAsync(HttpRequest request, ServeState state)
    {
        (JsonDocument? doc, IResult? error) = await RequestJson.ReadAsync(request, state.Options.MaxBodyBytes).ConfigureAwait(false);
        if (doc is null)
        {
            return error!;
        }

        ExternalEvent[] events;
        using (doc)
        {
            var errors = new Errors();
            events = Parse(doc.RootElement, state.Options, errors);
            if (errors.Any)
            {
                return errors.Result();
            }
        }

        AppendResult result = await state.Store.AppendAsync(events).ConfigureAwait(false);
        state.CountApplied(events, result);
        return Results.Ok(Answer(result, state));
    }

    /// <summary>The events of a body, every problem added to <paramref name="errors"/> under its field path.</summary>
    internal static ExternalEvent[] Parse(JsonElement root, ServeOptions options, Errors errors)
    {
        if (!RequestJson.Array(root, "events", errors, out JsonElement list))
        {
            return [];
        }

        int n = list.GetArrayLength();
        if (n == 0 || n > options.MaxBatchEvents)
        {
            errors.Add("events", $"a batch holds 1 to {options.MaxBatchEvents} events (got {n})");
            return [];
        }

        RatingScale scale = options.Scale;
        string scaleFix = $"the service's scale is set with --rating-scale or comes from the --dataset seed (default {ScaleText(RatingScale.FiveStars)}); implicit feedback is sent as \"feedback\": 0 or 1";
        var events = new ExternalEvent[n];
        int i = 0;
        foreach (JsonElement e in list.EnumerateArray())
        {
            string at = $"events[{i}]";
            if (e.ValueKind != JsonValueKind.Object)
            {
                errors.Add(at, "must be an object");
                i++;
                continue;
            }

            long id = RequestJson.Int64(e, at, "event_id", errors) ?? 0;
            string user = RequestJson.Id(e, at, "user", errors) ?? "";
            string item = RequestJson.Id(e, at, "item", errors) ?? "";
            long ts = 0;
            if (RequestJson.Int64(e, at, "timestamp", errors) is long t)
            {
                ts = t;
                if (EventRules.TimestampProblem(t, MillisecondsFix) is string badTime)
                {
                    errors.Add($"{at}.timestamp", badTime);
                }
            }

            events[i++] = new ExternalEvent(id, user, item, ts, Value(e, at, scale, scaleFix, errors));
        }

        return events;
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

    /// <summary>The stored value: the rating (on the service's scale) or the feedback 0/1; exactly one must be given.</summary>
    private static float Value(JsonElement e, string at, RatingScale scale, string scaleFix, Errors errors)
    {
        bool hasRating = e.TryGetProperty("rating", out JsonElement rating) && rating.ValueKind != JsonValueKind.Null;
        bool hasFeedback = e.TryGetProperty("feedback", out JsonElement feedback) && feedback.ValueKind != JsonValueKind.Null;
        if (hasRating == hasFeedback)
        {
            errors.Add(at, "exactly one of rating and feedback is required");
            return 0;
        }

        if (hasFeedback)
        {
            if (feedback.ValueKind != JsonValueKind.Number || !feedback.TryGetInt32(out int f) || f is not (0 or 1))
            {
                errors.Add($"{at}.feedback", "must be the integer 0 or 1");
                return 0;
            }

            return f;
        }

        if (rating.ValueKind != JsonValueKind.Number || !rating.TryGetDouble(out double r) || !double.IsFinite(r) || !float.IsFinite((float)r))
        {
            errors.Add($"{at}.rating", "must be a finite number");
            return 0;
        }

        if (EventRules.RatingProblem((float)r, scale, scaleFix) is string badRating)
        {
            errors.Add($"{at}.rating", badRating);
            return 0;
        }

        return (float)r;
    }
}
