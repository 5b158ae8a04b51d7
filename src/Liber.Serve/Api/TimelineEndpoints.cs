using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Serve.Ranking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Liber.Serve.Api;

/// <summary>
/// The read endpoints the timeline page needs besides <c>/v1/users/{id}/interests</c> and <c>/v1/rank</c>: catalog search
/// (<c>GET /v1/items</c>) and one candidate's explanation (<c>POST /v1/explain</c>: score and UIF's attention over the partitions).
/// </summary>
internal static class TimelineEndpoints
{
    /// <summary>Most items one search returns.</summary>
    public const int MaxLimit = 100;

    public static void Map(WebApplication app, ServeState state, IEndpointFilter read)
    {
        app.MapGet("/v1/items", (HttpContext c) => Search(c, state))
            .AddEndpointFilter(read).WithName("SearchItems").Produces<ItemsSearchResponse>().ProducesValidationProblem().ProducesProblem(401);
        app.MapPost("/v1/explain", (HttpRequest r) => ExplainAsync(r, state))
            .AddEndpointFilter(read).WithName("Explain").Accepts<ExplainRequest>("application/json").Produces<ExplainResponse>()
            .ProducesValidationProblem().ProducesProblem(401).ProducesProblem(413).ProducesProblem(503);
    }

    /// <summary>The categories of a partition's events by share (<see cref="PartitionCategories"/>: the page and <c>liber report --timeline</c> draw the same bands).</summary>
    public static CategoryShareDto[] Categories(IReadOnlyList<PartitionEvent> events, IReadOnlyList<Item> catalog) =>
        [.. PartitionCategories.Of([.. events.Select(e => e.Item)], catalog).Select(c => new CategoryShareDto(c.Name, c.Share))];

    private static IResult Search(HttpContext context, ServeState state)
    {
        var errors = new Errors();
        string query = context.Request.Query["query"].ToString().Trim();
        int limit = 20;
        string limitText = context.Request.Query["limit"].ToString();
        if (limitText.Length > 0 && (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
        {
            errors.Add("limit", $"an integer from 1 to {MaxLimit} (got '{limitText}')");
        }

        if (query.Length > EventRules.MaxIdLength)
        {
            errors.Add("query", $"at most {EventRules.MaxIdLength} characters");
        }

        if (errors.Any)
        {
            return errors.Result();
        }

        IEnumerable<Item> matches = state.Store.CatalogSnapshot().Catalog.Where(i => query.Length == 0
            || i.Title.Contains(query, StringComparison.OrdinalIgnoreCase)
            || i.ExternalId.Contains(query, StringComparison.OrdinalIgnoreCase)
            || i.Categories.Any(c => c.Contains(query, StringComparison.OrdinalIgnoreCase)));
        var all = matches.ToList();
        return Results.Ok(new ItemsSearchResponse([.. all.Take(limit).Select(i => new ItemSummaryDto(i.ExternalId, i.Title, i.Year, [.. i.Categories]))], all.Count));
    }

    private static async Task<IResult> ExplainAsync(HttpRequest request, ServeState state)
    {
        if (state.Model is not IRankModel model)
        {
            return Results.Problem(statusCode: 503, title: "no model", detail: "the service was started without --checkpoint: /v1/explain needs a trained checkpoint (liber train --checkpoint DIR)");
        }

        (ExplainRequest? body, IResult? error) = await RequestJson.ReadAsync<ExplainRequest>(request, state.Options.MaxBodyBytes).ConfigureAwait(false);
        if (body is null)
        {
            return error!;
        }

        if (Errors.Check(body.Validate()) is IResult invalid)
        {
            return invalid;
        }

        (string user, string item) = (body.User, body.Item);
        try
        {
            (float score, IReadOnlyList<(int Partition, float Weight)> attention, RankingState s) = await new RankingService(state).ExplainAsync(model, user, item, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return Results.Ok(new ExplainResponse(user, item, model.ModelName, score, [.. attention.Select(a => new PartitionWeightDto(a.Partition, a.Weight))], [.. s.Pending]));
        }
        catch (VectorDimensionException e)
        {
            return Results.Problem(statusCode: 500, title: "vector dimension mismatch", detail: e.Message);
        }
    }
}
