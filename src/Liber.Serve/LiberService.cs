using System.Diagnostics;
using System.Text.Json;
using Liber.Core.Storage;
using Liber.Serve.Api;
using Liber.Serve.Nearline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Liber.Serve;

/// <summary>Builds the <c>liber serve</c> web application (Kestrel, minimal APIs) from <see cref="ServeOptions"/>.</summary>
public static class LiberService
{
    /// <summary>The environment variable holding the API key that grants every <c>/v1</c> route.</summary>
    public const string ApiKeyVariable = "LIBER_API_KEY";

    /// <summary>The environment variable holding an optional read-only key (interests, rank, metrics).</summary>
    public const string ReadApiKeyVariable = "LIBER_READ_API_KEY";

    /// <summary>
    /// Builds the application: opens the store (seeding the catalog), loads the checkpoint's model through
    /// <paramref name="loadModel"/> when one is given, maps the endpoints and registers the nearline worker. The key
    /// comes from <see cref="ServeOptions.ApiKey"/> or <c>LIBER_API_KEY</c> (the read-only key from
    /// <see cref="ServeOptions.ReadApiKey"/> or <c>LIBER_READ_API_KEY</c>); without a key the service refuses to start
    /// unless <see cref="ServeOptions.InsecureNoAuth"/> is set. The caller runs (or starts) and disposes the application.
    /// </summary>
    public static WebApplication Build(ServeOptions options, Func<string, IRankModel>? loadModel = null, Action<ILoggingBuilder>? logging = null)
        => Build(options, store: null, configure: null, loadModel, logging);

    /// <summary>
    /// Builds the application over <paramref name="store"/> (owned from here on; null: the embedded SQLite store at
    /// <see cref="ServeOptions.StorePath"/>), letting <paramref name="configure"/> add services to the host before the
    /// service's own (a cluster silo, which must start before the nearline worker). Otherwise as
    /// <see cref="Build(ServeOptions, Func{string, IRankModel}?, Action{ILoggingBuilder}?)"/>.
    /// </summary>
    public static WebApplication Build(ServeOptions options, IServingStore? store, Action<WebApplicationBuilder>? configure, Func<string, IRankModel>? loadModel = null, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? key = options.ApiKey ?? Environment.GetEnvironmentVariable(ApiKeyVariable);
        if (!options.InsecureNoAuth && string.IsNullOrEmpty(key))
        {
            store?.Dispose();
            throw new ArgumentException($"no API key: set {ApiKeyVariable} in the environment (every /v1 route compares it with the X-Api-Key header), or pass --insecure-no-auth for a local experiment");
        }

        string? readKey = options.ReadApiKey ?? Environment.GetEnvironmentVariable(ReadApiKeyVariable);
        options = options with { ApiKey = options.InsecureNoAuth ? null : key, ReadApiKey = options.InsecureNoAuth || string.IsNullOrEmpty(readKey) ? null : readKey };
        try
        {
            options.Validate();
        }
        catch
        {
            store?.Dispose();
            throw;
        }

        // Production environment: no developer exception page, whatever ASPNETCORE_ENVIRONMENT says.
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, ApplicationName = "liber" });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(c => c.SingleLine = true);
        }

        builder.Services.ConfigureHttpJsonOptions(j =>
        {
            j.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            j.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never;
            // Bodies are parsed by hand and take JSON numbers only; strict handling makes the OpenAPI schema say so too
            // (the web default would document int64 fields as "integer or numeric string").
            j.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(o => OpenApiDocs.Configure(o, options));
        configure?.Invoke(builder);
        var state = store is null ? new ServeState(options, loadModel) : new ServeState(options, store, loadModel);
        try
        {
            builder.Services.AddSingleton(_ => state);
            if (options.Nearline.Enabled)
            {
                builder.Services.AddSingleton<NearlineWorker>();
                builder.Services.AddHostedService(sp => sp.GetRequiredService<NearlineWorker>());
            }

            WebApplication app = builder.Build();
            _ = app.Services.GetRequiredService<ServeState>(); // the container owns (and disposes) it from here
            app.UseExceptionHandler(new ExceptionHandlerOptions
            {
                StatusCodeSelector = e => e switch
                {
                    BadHttpRequestException b => b.StatusCode,
                    StoreException { Problem: StoreProblem.Unavailable } => StatusCodes.Status503ServiceUnavailable,
                    _ => StatusCodes.Status500InternalServerError,
                },
            });
            app.UseStatusCodePages();
            app.UseRouting();
            app.Use(async (context, next) =>
            {
                long start = Stopwatch.GetTimestamp();
                try
                {
                    await next(context).ConfigureAwait(false);
                }
                finally
                {
                    string endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                    state.Metrics.RequestDuration.WithLabels(endpoint, context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture))
                        .Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
                }
            });
            app.MapOpenApi();
            Endpoints.Map(app, state);
            return app;
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }
}
