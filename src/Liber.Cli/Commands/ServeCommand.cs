using System.CommandLine;
using Liber.Core.Data;
using Liber.Core.Storage;
using Liber.Serve;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Liber.Cli.Commands;

/// <summary><c>liber serve</c>: the online LIBER service (live events in, lifelong interests and CTR scores out).</summary>
public static class ServeCommand
{
    /// <summary>Creates the <c>serve</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("serve", "run the online LIBER service: POST /v1/events, /v1/items, /v1/rank; GET /v1/users/{id}/interests, /healthz, /metrics, /openapi/v1.json. Every /v1 route needs X-Api-Key = $LIBER_API_KEY ($LIBER_READ_API_KEY: reads only)");
        var store = new Option<string>("--store") { Description = "SQLite UBSP store file (created when missing; its policy is fixed for life)", Required = true };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "checkpoint folder (liber train --checkpoint) for /v1/rank; without it /v1/rank answers 503" };
        var urls = new Option<string>("--urls") { Description = "listening URLs (port 0 picks a free port; the address is printed)", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var insecure = new Option<bool>("--insecure-no-auth") { Description = "serve the write endpoints without an API key (local experiments only)" };
        var durability = new Option<string>("--durability") { Description = "full (fsync every commit) or normal (WAL, may lose the last commits on power loss)", DefaultValueFactory = _ => "full" };
        var lateEvents = new Option<string>("--late-events") { Description = "an event older than its user's last one is rejected (reject) or inserted into the cache if the cache spans its time (insert)", DefaultValueFactory = _ => "reject" };
        var maxBatch = new Option<int>("--max-batch-events") { Description = "events per /v1/events request at most", DefaultValueFactory = _ => 10_000 };
        var maxBody = new Option<long>("--max-body-bytes") { Description = "request body bytes at most", DefaultValueFactory = _ => 8L * 1024 * 1024 };
        var maxAttempts = new Option<int>("--job-attempts") { Description = "attempts of a partition's interest job before it is marked failed", DefaultValueFactory = _ => 5 };
        var noNearline = new Option<bool>("--no-nearline") { Description = "do not run the nearline worker in this process: partitions stay pending (ingest-only benchmarks)" };
        var ratingScale = new Option<string?>("--rating-scale") { Description = "rating scale events must be on, MIN:MAX[:STEP] (e.g. 1:5:1, 0.5:5:0.5, 0:10); default: the --dataset seed's, else 1:5:1" };
        var metricsNoAuth = new Option<bool>("--metrics-no-auth") { Description = "serve /metrics without a key (for a scraper that cannot send X-Api-Key); by default it needs LIBER_API_KEY or LIBER_READ_API_KEY" };
        durability.AcceptOnlyFromAmong("full", "normal");
        lateEvents.AcceptOnlyFromAmong("reject", "insert");
        var ds = new DatasetOptions();
        ds.AddTo(cmd);
        var chain = new LiberChainOptions();
        chain.AddTo(cmd);
        foreach (Option o in new Option[] { store, checkpoint, urls, insecure, durability, lateEvents, maxBatch, maxBody, maxAttempts, noNearline, ratingScale, metricsNoAuth })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (r, ct) =>
        {
            // --dataset seeds the catalog, profiles and rating scale only when given explicitly.
            Dataset? seed = r.GetResult(ds.Dataset) is { Implicit: false } ? ds.Load(r) : null;
            LlmBackend backend = chain.Llm.CreateBackend(r);
            var options = new ServeOptions
            {
                StorePath = r.GetValue(store)!,
                Partition = chain.Policy.Read(r),
                Store = new SqliteStoreOptions
                {
                    Durability = r.GetValue(durability) == "normal" ? Durability.Normal : Durability.Full,
                    LateEvents = r.GetValue(lateEvents) == "insert" ? LateEventRule.InsertIfCacheSpans : LateEventRule.Reject,
                },
                CheckpointDirectory = r.GetValue(checkpoint),
                Backend = () => backend.Backend,
                Learn = chain.Llm.ReadLearnOptions(r, seed?.Kind ?? "generic"),
                LlmCache = r.GetValue(chain.Llm.Cache),
                Encoder = r.GetValue(chain.Encoder)!,
                EmbeddingCache = r.GetValue(chain.EmbeddingCache),
                Urls = r.GetValue(urls)!,
                InsecureNoAuth = r.GetValue(insecure),
                RatingScale = r.GetValue(ratingScale) is string scaleText ? EventRules.ParseScale(scaleText) : null,
                MetricsNoAuth = r.GetValue(metricsNoAuth),
                MaxBatchEvents = r.GetValue(maxBatch),
                MaxBodyBytes = r.GetValue(maxBody),
                Seed = seed,
                Nearline = new NearlineOptions { MaxAttempts = r.GetValue(maxAttempts), Enabled = !r.GetValue(noNearline) },
            };
            try
            {
                await using WebApplication app = LiberService.Build(options, ServeModels.Loader);
                await app.StartAsync(ct).ConfigureAwait(false);
                var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                await io.Output.WriteLineAsync($"liber serve: listening on {string.Join(", ", addresses)} (store {options.StorePath}{(options.InsecureNoAuth ? ", NO AUTH" : "")}{(options.CheckpointDirectory is null ? ", no checkpoint: /v1/rank answers 503" : "")})").ConfigureAwait(false);
                await io.Output.FlushAsync(ct).ConfigureAwait(false);
                await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                backend.Dispose();
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }
}
