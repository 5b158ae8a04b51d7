using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Serve.Ranking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Liber.Serve.Api;

/// <summary>The HTTP endpoints of <c>liber serve</c>. Every <c>/v1</c> route needs an API key (<see cref="ApiKeys"/>); bodies are
/// read into their DTOs (<see cref="RequestJson"/>) and checked by the DTOs' <c>Validate</c>, so that every error names its field
/// and index, e.g. <c>events[3].timestamp</c>.</summary>
internal static class Endpoints
{
    public static void Map(WebApplication app, ServeState state)
    {
        var keys = new ApiKeys(state.Options);
        IEndpointFilter read = keys.Filter(Access.Read), write = keys.Filter(Access.Write);
        app.MapPost("/v1/events", (HttpRequest r) => EventsEndpoint.HandleAsync(r, state))
            .AddEndpointFilter(write).WithName("PostEvents")
            .Accepts<EventsRequest>("application/json").Produces<EventsResponse>()
            .ProducesValidationProblem().ProducesProblem(401).ProducesProblem(403).ProducesProblem(413);
        app.MapPost("/v1/items", (HttpRequest r) => Items(r, state))
            .AddEndpointFilter(write).WithName("PostItems")
            .Accepts<ItemsRequest>("application/json").Produces<ItemsResponse>()
            .ProducesValidationProblem().ProducesProblem(401).ProducesProblem(403).ProducesProblem(409).ProducesProblem(413);
        app.MapGet("/v1/users/{id}/interests", (HttpContext c, string id) => Interests(RouteId(c, id), state))
            .AddEndpointFilter(read).WithName("GetInterests").Produces<InterestsResponse>().ProducesProblem(401).ProducesProblem(404);
        app.MapPost("/v1/rank", (HttpRequest r) => Rank(r, state))
            .AddEndpointFilter(read).WithName("Rank").Accepts<RankRequest>("application/json").Produces<RankResponse>()
            .ProducesValidationProblem().ProducesProblem(401).ProducesProblem(413).ProducesProblem(503);
        TimelineEndpoints.Map(app, state, read);
        UiEndpoints.Map(app);
        app.MapGet("/healthz", () => Results.Ok(new HealthResponse("ok", state.Store.KnownUsers, state.Store.PendingJobs(), state.Model?.ModelName)))
            .WithName("Health").Produces<HealthResponse>();
        app.MapGet("/metrics", async (HttpContext c) =>
        {
            // A read key (or the full key) unless --metrics-no-auth opened it for a scraper that cannot send headers.
            if (!state.Options.MetricsNoAuth && keys.Deny(c, Access.Read) is IResult denied)
            {
                return denied;
            }

            c.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await state.Metrics.Registry.CollectAndExportAsTextAsync(c.Response.Body, c.RequestAborted).ConfigureAwait(false);
            return Results.Empty;
        }).WithName("Metrics").ExcludeFromDescription();
    }

    /// <summary>
    /// The decoded value of a route segment. Kestrel decodes a request path except <c>%2F</c> (an encoded slash must not split a
    /// segment), so user <c>a/b</c>, sent as <c>a%2Fb</c>, would arrive as "a%2Fb"; and undoing only that would confuse it with
    /// user <c>a%2Fb</c> (sent as <c>a%252Fb</c>). So the segment is taken from the raw request target and decoded once, exactly
    /// as the client encoded it.
    /// </summary>
    internal static string RouteId(HttpContext context, string routeValue)
    {
        string? raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (raw is not null)
        {
            int query = raw.IndexOfAny(['?', '#']);
            string[] segments = (query < 0 ? raw : raw[..query]).Split('/');
            // "/v1/users/{id}/interests" -> "", "v1", "users", id, "interests"
            if (segments.Length == 5 && segments[0].Length == 0 && segments[2].Equals("users", StringComparison.OrdinalIgnoreCase))
            {
                return Uri.UnescapeDataString(segments[3]);
            }
        }

        return routeValue.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<IResult> Items(HttpRequest request, ServeState state)
    {
        (ItemsRequest? body, IResult? error) = await RequestJson.ReadAsync<ItemsRequest>(request, state.Options.MaxBodyBytes).ConfigureAwait(false);
        if (body is null)
        {
            return error!;
        }

        if (Errors.Check(body.Validate(state.Options)) is IResult invalid)
        {
            return invalid;
        }

        List<ItemMetadata> items = [.. body.Items.Select(i => i.ToMetadata())];
        int changed;
        try
        {
            changed = state.Store.UpsertItems(items);
        }
        catch (NotSupportedException e)
        {
            // A store whose catalog is fixed (the cluster's) refuses changes: the client's request, not a server fault.
            return Results.Problem(statusCode: 409, title: "catalog is fixed", detail: e.Message);
        }

        if (state.Model is IRankModel model)
        {
            foreach (ItemMetadata it in items)
            {
                model.UpsertItem(it.Id, it.Categories);
            }
        }

        return Results.Ok(new ItemsResponse(items.Count, changed));
    }

    private static IResult Interests(string id, ServeState state)
    {
        if (state.Store.FindUser(id) is not int user || state.Store.State(user) is not UserPartitionState s)
        {
            return Results.Problem(statusCode: 404, title: "unknown user", detail: $"user '{Clip(id)}' has no events in the store");
        }

        IReadOnlyList<InterestJob> jobs = state.Jobs(user);
        IReadOnlyList<Item> catalog = state.Store.CatalogSnapshot().Catalog;
        return Results.Ok(new InterestsResponse(id, s.Cache.Length, s.NextIndex, [.. jobs.Select(j => new PartitionInterestDto(
            j.Partition.Number, j.Partition.Start, j.Partition.End, j.Partition.Count, j.Partition.StartTime, j.Partition.EndTime,
            StatusName(j.Status), j.Summary, j.Shift, j.Error, j.Attempts, TimelineEndpoints.Categories(j.Events, catalog)))]));
    }

    private static async Task<IResult> Rank(HttpRequest request, ServeState state)
    {
        if (state.Model is not IRankModel model)
        {
            return Results.Problem(statusCode: 503, title: "no model", detail: "the service was started without --checkpoint: /v1/rank needs a trained checkpoint (liber train --checkpoint DIR)");
        }

        (RankRequest? body, IResult? error) = await RequestJson.ReadAsync<RankRequest>(request, state.Options.MaxBodyBytes).ConfigureAwait(false);
        if (body is null)
        {
            return error!;
        }

        if (Errors.Check(body.Validate(state.Options)) is IResult invalid)
        {
            return invalid;
        }

        (string user, string[] candidates) = (body.User, body.Candidates);
        try
        {
            (float[] scores, RankingState s) = await new RankingService(state).RankAsync(model, user, candidates, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return Results.Ok(new RankResponse(user, model.ModelName, [.. candidates.Select((c, i) => new ScoreDto(c, scores[i]))], s.History.Count,
                model.FusionInputSize is null ? 0 : Math.Min(s.Partitions.Count, model.MaxPartitions), [.. s.Pending]));
        }
        catch (VectorDimensionException e)
        {
            return Results.Problem(statusCode: 500, title: "vector dimension mismatch", detail: e.Message);
        }
    }

    private static string StatusName(InterestJobStatus s) => s switch
    {
        InterestJobStatus.Done => "done",
        InterestJobStatus.Failed => "failed",
        _ => "pending",
    };

    private static string Clip(string s) => s.Length <= EventRules.MaxIdLength ? s : s[..EventRules.MaxIdLength] + "...";
}
