using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Liber.Serve.Api;

/// <summary>The HTTP endpoints of <c>liber serve</c>. Bodies are parsed and validated by hand (one pass over a
/// <see cref="JsonDocument"/>) so that every error names its field and index, e.g. <c>events[3].timestamp</c>.</summary>
internal static class Endpoints
{
    public const int MaxIdLength = 128;

    public static void Map(WebApplication app, ServeState state)
    {
        var apiKey = new ApiKeyFilter(state.Options);
        app.MapPost("/v1/events", (HttpRequest r) => Events(r, state))
            .AddEndpointFilter(apiKey).WithName("PostEvents")
            .Accepts<EventsRequest>("application/json").Produces<EventsResponse>()
            .ProducesValidationProblem().ProducesProblem(401).ProducesProblem(413);
        app.MapPost("/v1/items", (HttpRequest r) => Items(r, state))
            .AddEndpointFilter(apiKey).WithName("PostItems")
            .Accepts<ItemsRequest>("application/json").Produces<ItemsResponse>()
            .ProducesValidationProblem().ProducesProblem(401).ProducesProblem(413);
        app.MapGet("/v1/users/{id}/interests", (string id) => Interests(id, state))
            .WithName("GetInterests").Produces<InterestsResponse>().ProducesProblem(404);
        app.MapPost("/v1/rank", (HttpRequest r) => Rank(r, state))
            .WithName("Rank").Accepts<RankRequest>("application/json").Produces<RankResponse>()
            .ProducesValidationProblem().ProducesProblem(413).ProducesProblem(503);
        app.MapGet("/healthz", () => Results.Ok(new HealthResponse("ok", state.Store.KnownUsers, state.Store.PendingJobs(), state.Model?.ModelName)))
            .WithName("Health").Produces<HealthResponse>();
        app.MapGet("/metrics", async (HttpContext c) =>
        {
            c.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await state.Metrics.Registry.CollectAndExportAsTextAsync(c.Response.Body, c.RequestAborted).ConfigureAwait(false);
        }).WithName("Metrics").ExcludeFromDescription();
    }

    private static async Task<IResult> Events(HttpRequest request, ServeState state)
    {
        (JsonDocument? doc, IResult? error) = await ReadJsonAsync(request, state.Options.MaxBodyBytes).ConfigureAwait(false);
        if (doc is null)
        {
            return error!;
        }

        using (doc)
        {
            var errors = new Errors();
            if (!Array(doc.RootElement, "events", errors, out JsonElement list))
            {
                return errors.Result();
            }

            int n = list.GetArrayLength();
            if (n == 0 || n > state.Options.MaxBatchEvents)
            {
                errors.Add("events", $"a batch holds 1 to {state.Options.MaxBatchEvents} events (got {n})");
                return errors.Result();
            }

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

                long id = Int64(e, at, "event_id", errors) ?? 0;
                string user = Id(e, at, "user", errors) ?? "";
                string item = Id(e, at, "item", errors) ?? "";
                long ts = Int64(e, at, "timestamp", errors) ?? 0;
                bool hasRating = e.TryGetProperty("rating", out JsonElement rating) && rating.ValueKind != JsonValueKind.Null;
                bool hasFeedback = e.TryGetProperty("feedback", out JsonElement feedback) && feedback.ValueKind != JsonValueKind.Null;
                float value = 0;
                if (hasRating == hasFeedback)
                {
                    errors.Add(at, "exactly one of rating and feedback is required");
                }
                else if (hasRating)
                {
                    if (rating.ValueKind != JsonValueKind.Number || !rating.TryGetDouble(out double r) || !double.IsFinite(r) || !float.IsFinite((float)r))
                    {
                        errors.Add($"{at}.rating", "must be a finite number");
                    }
                    else
                    {
                        value = (float)r;
                    }
                }
                else if (feedback.ValueKind != JsonValueKind.Number || !feedback.TryGetInt32(out int f) || f is not (0 or 1))
                {
                    errors.Add($"{at}.feedback", "must be the integer 0 or 1");
                }
                else
                {
                    value = f;
                }

                events[i++] = new ExternalEvent(id, user, item, ts, value);
            }

            if (errors.Any)
            {
                return errors.Result();
            }

            AppendResult result = await state.Store.AppendAsync(events).ConfigureAwait(false);
            ServeMetrics m = state.Metrics;
            m.EventsApplied.Inc(result.Applied);
            m.EventsDuplicate.Inc(result.Duplicates);
            m.EventsRejected.Inc(result.Rejected.Count);
            if (result.Closed.Count > 0)
            {
                m.PartitionsClosed.Inc(result.Closed.Count);
                state.Invalidate(result.Closed.Select(p => p.User));
                state.Signal();
            }

            return Results.Ok(new EventsResponse(
                result.Applied,
                result.Duplicates,
                [.. result.Rejected.Select(r => new RejectedDto(r.Index, r.EventId, r.Reason))],
                [.. result.Closed.Select(p => new ClosedPartitionDto(state.Store.UserName(p.User), p.Number, p.Start, p.End, p.Count, p.StartTime, p.EndTime))]));
        }
    }

    private static async Task<IResult> Items(HttpRequest request, ServeState state)
    {
        (JsonDocument? doc, IResult? error) = await ReadJsonAsync(request, state.Options.MaxBodyBytes).ConfigureAwait(false);
        if (doc is null)
        {
            return error!;
        }

        using (doc)
        {
            var errors = new Errors();
            if (!Array(doc.RootElement, "items", errors, out JsonElement list))
            {
                return errors.Result();
            }

            int n = list.GetArrayLength();
            if (n == 0 || n > state.Options.MaxBatchItems)
            {
                errors.Add("items", $"a request holds 1 to {state.Options.MaxBatchItems} items (got {n})");
                return errors.Result();
            }

            var items = new List<ItemMetadata>(n);
            int i = 0;
            foreach (JsonElement e in list.EnumerateArray())
            {
                string at = $"items[{i++}]";
                if (e.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(at, "must be an object");
                    continue;
                }

                string? id = Id(e, at, "id", errors);
                string? title = Text(e, at, "title", 1_000, errors);
                string? text = Text(e, at, "text", 20_000, errors);
                int? year = null;
                if (e.TryGetProperty("year", out JsonElement y) && y.ValueKind != JsonValueKind.Null)
                {
                    if (y.ValueKind != JsonValueKind.Number || !y.TryGetInt32(out int yy))
                    {
                        errors.Add($"{at}.year", "must be an integer or null");
                    }
                    else
                    {
                        year = yy;
                    }
                }

                string[] categories = Strings(e, at, "categories", errors);
                string[] tags = Strings(e, at, "tags", errors);
                if (id is not null)
                {
                    items.Add(new ItemMetadata(id, title, year, categories, tags, text));
                }
            }

            if (errors.Any)
            {
                return errors.Result();
            }

            int changed = state.Store.UpsertItems(items);
            if (state.Model is IRankModel model)
            {
                foreach (ItemMetadata it in items)
                {
                    model.UpsertItem(it.Id, it.Categories);
                }
            }

            return Results.Ok(new ItemsResponse(items.Count, changed));
        }
    }

    private static IResult Interests(string id, ServeState state)
    {
        if (state.Store.FindUser(id) is not int user || state.Store.State(user) is not UserPartitionState s)
        {
            return Results.Problem(statusCode: 404, title: "unknown user", detail: $"user '{Clip(id)}' has no events in the store");
        }

        IReadOnlyList<InterestJob> jobs = state.Jobs(user);
        return Results.Ok(new InterestsResponse(id, s.Cache.Length, s.NextIndex, [.. jobs.Select(j => new PartitionInterestDto(
            j.Partition.Number, j.Partition.Start, j.Partition.End, j.Partition.Count, j.Partition.StartTime, j.Partition.EndTime,
            StatusName(j.Status), j.Summary, j.Shift, j.Error, j.Attempts))]));
    }

    private static async Task<IResult> Rank(HttpRequest request, ServeState state)
    {
        if (state.Model is not IRankModel model)
        {
            return Results.Problem(statusCode: 503, title: "no model", detail: "the service was started without --checkpoint: /v1/rank needs a trained checkpoint (liber train --checkpoint DIR)");
        }

        (JsonDocument? doc, IResult? error) = await ReadJsonAsync(request, state.Options.MaxBodyBytes).ConfigureAwait(false);
        if (doc is null)
        {
            return error!;
        }

        string user;
        string[] candidates;
        using (doc)
        {
            var errors = new Errors();
            user = doc.RootElement.ValueKind == JsonValueKind.Object ? Id(doc.RootElement, null, "user", errors) ?? "" : "";
            if (!Array(doc.RootElement, "candidates", errors, out JsonElement list))
            {
                return errors.Result();
            }

            int n = list.GetArrayLength();
            if (n == 0 || n > state.Options.MaxCandidates)
            {
                errors.Add("candidates", $"1 to {state.Options.MaxCandidates} candidates (got {n})");
                return errors.Result();
            }

            candidates = new string[n];
            int i = 0;
            foreach (JsonElement c in list.EnumerateArray())
            {
                if (c.ValueKind != JsonValueKind.String || c.GetString() is not { Length: > 0 and <= MaxIdLength } s)
                {
                    errors.Add($"candidates[{i}]", $"must be a non-empty string of at most {MaxIdLength} characters");
                }
                else
                {
                    candidates[i] = s;
                }

                i++;
            }

            if (errors.Any)
            {
                return errors.Result();
            }
        }

        // The user's state: the last L events (partitions' events, then the short-term cache) and the vectors of the
        // closed partitions that are done; pending or failed ones are reported, never waited for.
        var history = new List<(string Item, float Rating)>();
        var partitions = new List<(float[] Summary, float[]? Shift)>();
        var pending = new List<int>();
        if (state.Store.FindUser(user) is int u && state.Store.State(u) is UserPartitionState s2)
        {
            IReadOnlyList<InterestJob> jobs = state.Jobs(u);
            int need = model.HistoryWindow - s2.Cache.Length;
            var tail = new List<PartitionEvent>();
            for (int k = jobs.Count - 1; k >= 0 && need > 0; k--)
            {
                PartitionEvent[] ev = jobs[k].Events;
                int take = Math.Min(need, ev.Length);
                tail.InsertRange(0, ev[^take..]);
                need -= take;
            }

            tail.AddRange(s2.Cache.Length > model.HistoryWindow ? s2.Cache[^model.HistoryWindow..] : s2.Cache);
            var catalog = state.Store.CatalogSnapshot().Catalog;
            foreach (PartitionEvent e in tail)
            {
                history.Add((catalog[e.Item].ExternalId, e.Rating));
            }

            foreach (InterestJob j in jobs)
            {
                if (j.Status == InterestJobStatus.Done && j.SummaryVector is float[] sv)
                {
                    if (model.FusionInputSize is int d && (sv.Length != d || j.ShiftVector?.Length is int h && h != d))
                    {
                        return Results.Problem(statusCode: 500, title: "vector dimension mismatch", detail: $"partition vectors have {sv.Length} dimensions but the checkpoint's fusion expects {d}: serve with the encoder the checkpoint was trained with");
                    }

                    partitions.Add((sv, j.Partition.Number == 0 ? null : j.ShiftVector));
                }
                else
                {
                    pending.Add(j.Partition.Number);
                }
            }
        }

        float[] scores = await model.ScoreAsync(user, history, candidates, model.FusionInputSize is null ? null : partitions, request.HttpContext.RequestAborted).ConfigureAwait(false);
        return Results.Ok(new RankResponse(user, model.ModelName, [.. candidates.Select((c, i) => new ScoreDto(c, scores[i]))], history.Count,
            model.FusionInputSize is null ? 0 : Math.Min(partitions.Count, model.MaxPartitions), [.. pending]));
    }

    private static string StatusName(InterestJobStatus s) => s switch
    {
        InterestJobStatus.Done => "done",
        InterestJobStatus.Failed => "failed",
        _ => "pending",
    };

    private static string Clip(string s) => s.Length <= MaxIdLength ? s : s[..MaxIdLength] + "...";

    /// <summary>Reads a JSON body of at most <paramref name="max"/> bytes: 413 beyond it, 400 for malformed JSON (its position, no stack).</summary>
    private static async Task<(JsonDocument? Doc, IResult? Error)> ReadJsonAsync(HttpRequest request, long max)
    {
        if (request.ContentLength > max)
        {
            // Answer without reading the body, and close the connection rather than drain it.
            request.HttpContext.Response.Headers.Connection = "close";
            return (null, TooLarge(max));
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[64 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    request.HttpContext.Response.Headers.Connection = "close";
                    return (null, TooLarge(max));
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(max));
        }

        try
        {
            return (JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), new JsonDocumentOptions { MaxDepth = 16 }), null);
        }
        catch (JsonException e)
        {
            return (null, Results.Problem(statusCode: 400, title: "malformed JSON", detail: $"the body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})"));
        }
    }

    private static IResult TooLarge(long max) =>
        Results.Problem(statusCode: 413, title: "request body too large", detail: $"request bodies are limited to {max:N0} bytes");

    private static bool Array(JsonElement root, string name, Errors errors, out JsonElement list)
    {
        list = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", "the body must be a JSON object");
            return false;
        }

        if (!root.TryGetProperty(name, out list) || list.ValueKind != JsonValueKind.Array)
        {
            errors.Add(name, "required: an array");
            return false;
        }

        return !errors.Any;
    }

    private static long? Int64(JsonElement e, string at, string name, Errors errors)
    {
        if (e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long x))
        {
            return x;
        }

        errors.Add($"{at}.{name}", "required: an integer (int64)");
        return null;
    }

    private static string? Id(JsonElement e, string? at, string name, Errors errors)
    {
        if (e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 and <= MaxIdLength } s && !string.IsNullOrWhiteSpace(s))
        {
            return s;
        }

        errors.Add(at is null ? name : $"{at}.{name}", $"required: a non-empty string of at most {MaxIdLength} characters");
        return null;
    }

    private static string? Text(JsonElement e, string at, string name, int max, Errors errors)
    {
        if (!e.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String || v.GetString()!.Length > max)
        {
            errors.Add($"{at}.{name}", $"must be a string of at most {max} characters or null");
            return null;
        }

        return v.GetString();
    }

    private static string[] Strings(JsonElement e, string at, string name, Errors errors)
    {
        if (!e.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() > 100)
        {
            errors.Add($"{at}.{name}", "must be an array of at most 100 strings or null");
            return [];
        }

        var list = new List<string>();
        int i = 0;
        foreach (JsonElement s in v.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.String || s.GetString() is not { Length: > 0 and <= 200 } str)
            {
                errors.Add($"{at}.{name}[{i}]", "must be a non-empty string of at most 200 characters");
            }
            else
            {
                list.Add(str);
            }

            i++;
        }

        return [.. list];
    }

    /// <summary>Validation errors by field path (the first 100 kept).</summary>
    private sealed class Errors
    {
        private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

        public bool Any => _errors.Count > 0;

        public void Add(string field, string message)
        {
            if (_errors.Count < 100)
            {
                _errors[field] = _errors.TryGetValue(field, out string[]? m) ? [.. m, message] : [message];
            }
        }

        public IResult Result() => Results.ValidationProblem(_errors, title: "invalid request", detail: $"{_errors.Count} field(s) are invalid");
    }

    /// <summary>Write endpoints need <c>X-Api-Key</c> equal to the configured key (compared in constant time over SHA-256 digests, so length leaks nothing).</summary>
    private sealed class ApiKeyFilter(ServeOptions options) : IEndpointFilter
    {
        private readonly byte[]? _digest = options.InsecureNoAuth ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.ApiKey ?? throw new UnreachableException("the key is resolved before the endpoints are mapped")));

        public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            if (_digest is null)
            {
                return next(context);
            }

            string? given = context.HttpContext.Request.Headers["X-Api-Key"];
            bool ok = given is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), _digest);
            return ok ? next(context) : ValueTask.FromResult<object?>(Results.Problem(statusCode: 401, title: "unauthorized", detail: given is null ? "this endpoint needs the X-Api-Key header" : "the X-Api-Key header does not match the service's key"));
        }
    }
}
