using System.Globalization;
using Liber.Core.Data;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Liber.Serve.Api;

/// <summary>
/// Makes <c>/openapi/v1.json</c> say what the server accepts: the <c>X-Api-Key</c> scheme on every <c>/v1</c> operation, and
/// an event schema with integers only (never numeric strings), optional rating/feedback with the "exactly one" rule, the id
/// length in Unicode characters, the time range and the service's rating scale.
/// </summary>
internal static class OpenApiDocs
{
    /// <summary>The security scheme's name in the document.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>Registers the transformers.</summary>
    public static void Configure(OpenApiOptions options, ServeOptions serve)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serve);
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeys.Header,
                Description = $"Every /v1 route needs a key: {LiberService.ApiKeyVariable} grants all of them, {LiberService.ReadApiKeyVariable} (optional) "
                    + "grants the read routes only (GET /v1/users/{id}/interests, POST /v1/rank); a read key on a write route is 403.",
            };
            foreach ((string path, IOpenApiPathItem item) in document.Paths)
            {
                if (!path.StartsWith("/v1/", StringComparison.Ordinal) || item.Operations is null)
                {
                    continue;
                }

                foreach (OpenApiOperation operation in item.Operations.Values)
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, document)] = [] });
                }
            }

            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonTypeInfo.Type == typeof(EventDto))
            {
                DescribeEvent(schema, serve.Scale);
            }
            else if (context.JsonTypeInfo.Type == typeof(ItemDto) && schema.Properties?.TryGetValue("id", out IOpenApiSchema? id) == true && id is OpenApiSchema s)
            {
                DescribeId(s, "External item id");
            }

            return Task.CompletedTask;
        });
    }

    private static void DescribeEvent(OpenApiSchema schema, RatingScale scale)
    {
        schema.Description = "One event. Exactly one of rating and feedback must be given (the other absent or null); every field is checked "
            + "with the same rules as the data set readers, and a batch with any invalid event is refused whole (400, every bad field named).";
        if (schema.Properties is null)
        {
            return;
        }

        Set(schema, "event_id", s => s.Description = "Idempotency key across the store: a JSON integer (int64), never a string.");
        Set(schema, "user", s => DescribeId(s, "External user id"));
        Set(schema, "item", s => DescribeId(s, "External item id"));
        Set(schema, "timestamp", s =>
        {
            s.Description = "Unix seconds, a JSON integer in [1970-01-01, 2100-01-01). Milliseconds are refused: send seconds.";
            s.Minimum = EventRules.MinTimestamp.ToString(CultureInfo.InvariantCulture);
            s.Maximum = (EventRules.MaxTimestamp - 1).ToString(CultureInfo.InvariantCulture);
        });
        Set(schema, "rating", s =>
        {
            s.Description = $"Explicit rating on the service's scale {EventRules.Describe(scale)} (set with --rating-scale or the --dataset seed). "
                + "Exactly one of rating and feedback.";
            s.Minimum = scale.Min.ToString(CultureInfo.InvariantCulture);
            s.Maximum = scale.Max.ToString(CultureInfo.InvariantCulture);
        });
        Set(schema, "feedback", s =>
        {
            s.Description = "Implicit feedback, the integer 0 or 1 (stored as rating 0/1). Exactly one of rating and feedback.";
            s.Minimum = "0";
            s.Maximum = "1";
        });
        schema.Required = new HashSet<string>(["event_id", "user", "item", "timestamp"], StringComparer.Ordinal);
    }

    private static void DescribeId(OpenApiSchema s, string what)
    {
        s.Description = $"{what}: 1 to {EventRules.MaxIdLength} Unicode characters (code points: an emoji counts one), not blank, no control characters.";
        s.MinLength = 1;
        s.MaxLength = EventRules.MaxIdLength;
    }

    private static void Set(OpenApiSchema schema, string property, Action<OpenApiSchema> change)
    {
        if (schema.Properties!.TryGetValue(property, out IOpenApiSchema? p) && p is OpenApiSchema s)
        {
            change(s);
        }
    }
}
