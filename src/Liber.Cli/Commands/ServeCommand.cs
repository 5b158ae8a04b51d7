using System.CommandLine;
using Liber.Cluster;
using Liber.Cluster.Postgres;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Models.Training;
using Liber.Pipeline;
using Liber.Serve;
using Liber.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Liber.Cli.Commands;

/// <summary><c>liber serve</c>: the online LIBER service (live events in, lifelong interests and CTR scores out).</summary>
public static class ServeCommand
{
    /// <summary>Creates the <c>serve</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("serve", "run the online LIBER service: POST /v1/events, /v1/items, /v1/rank; GET /v1/users/{id}/interests, /healthz, /metrics, /openapi/v1.json. Every /v1 route needs X-Api-Key = $LIBER_API_KEY ($LIBER_READ_API_KEY: reads only)");
        var store = new Option<string?>("--store") { Description = "SQLite UBSP store file (created when missing; its policy is fixed for life); with --cluster, the prefix of this silo's local LLM and embedding caches" };
        var cluster = new Option<string?>("--cluster") { Description = "run this process as a silo of the Liber cluster in this file (PostgreSQL, Microsoft Orleans; docs/cluster.md) instead of on the embedded SQLite store; needs --dataset (the catalog every silo shares)" };
        var siloPort = new Option<int?>("--silo-port") { Description = "with --cluster: this silo's silo-to-silo port (default: the cluster file's silo_port)" };
        var gatewayPort = new Option<int?>("--gateway-port") { Description = "with --cluster: this silo's client gateway port (default: the cluster file's gateway_port)" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "checkpoint folder (liber train --checkpoint) for /v1/rank; without it /v1/rank answers 503" };
        var urls = new Option<string>("--urls") { Description = "listening URLs (port 0 picks a free port; the address is printed)", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var insecure = new Option<bool>("--insecure-no-auth") { Description = "serve the write endpoints without an API key (local experiments only)" };
        var durability = new Option<string>("--durability") { Description = "full (fsync every commit) or normal (WAL, may lose the last commits on power loss)", DefaultValueFactory = _ => "full" };
        var lateEvents = new Option<string>("--late-events") { Description = "an event older than its user's last one is rejected (reject) or inserted into the cache if the cache spans its time (insert)", DefaultValueFactory = _ => "reject" };
        var maxBatch = new Option<int>("--max-batch-events") { Description = "events per /v1/events request at most", DefaultValueFactory = _ => 10_000 };
        var maxBody = new Option<long>("--max-body-bytes") { Description = "request body bytes at most", DefaultValueFactory = _ => 8L * 1024 * 1024 };
        var maxAttempts = new Option<int>("--job-attempts") { Description = "attempts of a partition's interest job before it is marked failed", DefaultValueFactory = _ => 5 };
        var jobLease = new Option<int?>("--job-lease") { Description = "seconds a nearline worker holds a user's leased interest jobs before another may take them (a worker that died gives its jobs back after this); default 600 with --store, 60 with --cluster, where a killed silo's jobs must move on" };
        var noNearline = new Option<bool>("--no-nearline") { Description = "do not run the nearline worker in this process: partitions stay pending (ingest-only benchmarks)" };
        var ratingScale = new Option<string?>("--rating-scale") { Description = "rating scale events must be on, MIN:MAX[:STEP] (e.g. 1:5:1, 0.5:5:0.5, 0:10); default: the --dataset seed's, else 1:5:1" };
        var metricsNoAuth = new Option<bool>("--metrics-no-auth") { Description = "serve /metrics without a key (for a scraper that cannot send X-Api-Key); by default it needs LIBER_API_KEY or LIBER_READ_API_KEY" };
        durability.AcceptOnlyFromAmong("full", "normal");
        lateEvents.AcceptOnlyFromAmong("reject", "insert");
        var ds = new DatasetOptions();
        ds.AddTo(cmd);
        var chain = new LiberChainOptions();
        chain.AddTo(cmd);
        foreach (Option o in new Option[] { store, cluster, siloPort, gatewayPort, checkpoint, urls, insecure, durability, lateEvents, maxBatch, maxBody, maxAttempts, jobLease, noNearline, ratingScale, metricsNoAuth })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (r, ct) =>
        {
            // Every flag is checked before the store is opened or a model loaded.
            string urlList = r.GetValue(urls)!;
            ValidateUrls(urlList);
            FlagChecks.AtLeast(r, maxBatch, 1);
            FlagChecks.AtLeast(r, maxBody, 1);
            FlagChecks.AtLeast(r, maxAttempts, 1);
            if (r.GetValue(jobLease) is int leaseSeconds && leaseSeconds < 5)
            {
                throw new ArgumentException($"--job-lease {leaseSeconds}: give at least 5 seconds (a worker must finish a round of UIL and encoder work within its lease)");
            }
            string? clusterFile = r.GetValue(cluster);
            ClusterConfig? clusterConfig = ClusterFlags(r, clusterFile, store, siloPort, gatewayPort, durability, ds.Dataset);
            string? checkpointDir = r.GetValue(checkpoint);
            CheckpointSetup? setup = null;
            string? configPath = null;
            if (checkpointDir is not null)
            {
                CheckpointConfig saved = Checkpoint.ReadConfig(checkpointDir);
                setup = saved.Setup;
                if (clusterConfig is { Statistics: false } && saved.Model.Options.Stats)
                {
                    throw new ArgumentException($"--checkpoint {checkpointDir}: the model reads the point-in-time statistics (trained with --stats on), and the cluster file {clusterFile} sets \"statistics\": false, so the silos count none (docs/cluster.md). Set it to true on a new database, serve the model with --store, or train with --stats off");
                }
                configPath = Path.Combine(checkpointDir, Checkpoint.ConfigFile);
                if (setup is null)
                {
                    await io.Error.WriteLineAsync($"liber: note: {configPath} records no training setup (written by an older liber); the policy, UIL and encoder flags are used as given").ConfigureAwait(false);
                }
            }

            chain.Validate(r, checkpointSetsModel: setup?.Liber is not null);

            // --dataset seeds the catalog, profiles and rating scale only when given explicitly.
            if (r.GetResult(ds.Dataset) is { Implicit: false })
            {
                ds.Validate(r);
            }

            Dataset? seed = r.GetResult(ds.Dataset) is { Implicit: false } ? ds.Load(r) : null;

            // A checkpoint's recorded chain is the default, and a flag that contradicts it is refused: the service must
            // partition, learn and encode as the model was trained.
            ChainSettings settings = setup?.Liber is { } recorded
                ? ChainSettings.FromCheckpoint(r, chain, recorded, configPath!)
                : ChainSettings.FromFlags(r, chain, seed?.Kind ?? "generic");
            if (!ChainEncoders.IsText(settings.Encoder))
            {
                throw new ArgumentException($"encoder {settings.Encoder}{(setup?.Liber is null ? "" : $" (recorded in {configPath})")}: the statistics encoder is for offline training and evaluation; the service's nearline worker encodes interest texts, so serve a model trained with a text encoder ({string.Join(", ", Liber.Knowledge.Encoders.KnowledgeEncoders.Names)})");
            }

            LlmBackend backend = chain.Llm.CreateBackend(r, settings.Backend, settings.Model);
            var options = new ServeOptions
            {
                StorePath = r.GetValue(store) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(clusterFile!))!, $"silo-{r.GetValue(siloPort) ?? clusterConfig!.SiloPort}"),
                Partition = settings.Partition,
                Store = new SqliteStoreOptions
                {
                    Durability = r.GetValue(durability) == "normal" ? Durability.Normal : Durability.Full,
                    LateEvents = r.GetValue(lateEvents) == "insert" ? LateEventRule.InsertIfCacheSpans : LateEventRule.Reject,
                },
                CheckpointDirectory = checkpointDir,
                Backend = () => backend.Backend,
                Learn = settings.Learn,
                LlmCache = r.GetValue(chain.Llm.Cache),
                Encoder = settings.Encoder,
                EmbeddingCache = r.GetValue(chain.EmbeddingCache),
                Urls = urlList,
                InsecureNoAuth = r.GetValue(insecure),
                RatingScale = r.GetValue(ratingScale) is string scaleText ? EventRules.ParseScale(scaleText) : null,
                MetricsNoAuth = r.GetValue(metricsNoAuth),
                MaxBatchEvents = r.GetValue(maxBatch),
                MaxBodyBytes = r.GetValue(maxBody),
                Seed = seed,
                Nearline = new NearlineOptions
                {
                    MaxAttempts = r.GetValue(maxAttempts),
                    Enabled = !r.GetValue(noNearline),
                    Lease = TimeSpan.FromSeconds(r.GetValue(jobLease) ?? (clusterFile is null ? 600 : 60)),
                },
            };
            try
            {
                // Until the server listens, the host's own error log would print a bind failure's stack trace before our one line.
                bool started = false;
                IGrainFactory? grains = null;
                IServingStore? servingStore = null;
                Action<WebApplicationBuilder>? configure = null;
                if (clusterConfig is not null)
                {
                    UbspSettings ubsp = UbspSettings.ForDataset(seed!, settings.Partition, new Cl100kTokenCounter(), options.Store.LateEvents);
                    LiberDatabase tables = OpenDatabase(clusterFile!, clusterConfig);
                    PostgresStats? stats;
                    try
                    {
                        stats = clusterConfig.Statistics ? new PostgresStats(tables.Source, options.Scale, seed!.Catalog) : null;
                        if (stats is null)
                        {
                            PostgresStats.Claim(tables.Source, null);
                        }
                    }
                    catch (InvalidOperationException e)
                    {
                        tables.Dispose();
                        throw new UserErrorException($"--cluster {clusterFile}: {e.Message}", e);
                    }

                    servingStore = new ClusterServingStore(() => grains ?? throw new InvalidOperationException("the silo has not started"), tables, ubsp, seed!, stats);
                    int silo = r.GetValue(siloPort) ?? clusterConfig.SiloPort, gateway = r.GetValue(gatewayPort) ?? clusterConfig.GatewayPort;
                    configure = b =>
                    {
                        b.AddLiberSilo(clusterConfig, ubsp, silo, gateway, tables, stats);
                        b.Logging.AddFilter("Orleans", LogLevel.Warning);
                    };
                }

                await using WebApplication app = LiberService.Build(options, servingStore, configure, ServeModels.Loader, logging: b =>
                {
                    b.AddSimpleConsole(c => c.SingleLine = true);
                    // A filter without a category replaces the default minimum level for the categories no rule names, so it keeps Information.
                    b.AddFilter((_, category, level) => level >= LogLevel.Information
                        && (Volatile.Read(ref started) || level < LogLevel.Error || category is null || !category.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal)));
                });
                grains = clusterConfig is null ? null : app.Services.GetRequiredService<IGrainFactory>();
                try
                {
                    await app.StartAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (BindFailure(e) is string why)
                {
                    throw new UserErrorException($"--urls {urlList}: cannot listen: {why}; stop the other server or pick another port (port 0 picks a free one)", e);
                }

                Volatile.Write(ref started, true);
                var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                await io.Output.WriteLineAsync($"liber serve: listening on {string.Join(", ", addresses)} ({(clusterConfig is null ? $"store {options.StorePath}" : $"cluster {clusterConfig.ClusterId} silo {r.GetValue(siloPort) ?? clusterConfig.SiloPort} on {app.Services.GetRequiredService<ServeState>().Store.Path}")}{(options.InsecureNoAuth ? ", NO AUTH" : "")}{(options.CheckpointDirectory is null ? ", no checkpoint: /v1/rank answers 503" : "")})").ConfigureAwait(false);
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

    /// <summary>
    /// Checks the store flags: exactly one of --store and --cluster; the cluster's flags only with --cluster, which needs an
    /// explicit --dataset (the catalog every silo shares) and has no --durability (PostgreSQL's own). Returns the cluster
    /// file read and checked, or null for the embedded store.
    /// </summary>
    private static ClusterConfig? ClusterFlags(ParseResult r, string? clusterFile, Option<string?> store, Option<int?> siloPort, Option<int?> gatewayPort, Option<string> durability, Option<string> dataset)
    {
        if (clusterFile is null)
        {
            if (r.GetValue(store) is null)
            {
                throw new ArgumentException("give --store FILE (the embedded SQLite store) or --cluster FILE (a silo of a cluster, docs/cluster.md)");
            }

            foreach (Option<int?> o in new[] { siloPort, gatewayPort })
            {
                if (r.GetValue(o) is not null)
                {
                    throw new ArgumentException($"{o.Name} is for a cluster silo: give it with --cluster FILE");
                }
            }

            return null;
        }

        if (r.GetResult(dataset) is not { Implicit: false })
        {
            throw new ArgumentException($"--cluster {clusterFile}: give --dataset and --path: every silo partitions against the same catalog, and the cluster's catalog is fixed when it starts");
        }

        if (r.GetResult(durability) is { Implicit: false })
        {
            throw new ArgumentException($"--durability is for the embedded SQLite store; with --cluster {clusterFile} every write is a PostgreSQL commit (its own synchronous_commit setting applies)");
        }

        ClusterConfig config = ClusterConfig.Read(clusterFile);
        foreach (Option<int?> o in new[] { siloPort, gatewayPort })
        {
            if (r.GetValue(o) is int port && port is < 1 or > 65535)
            {
                throw new ArgumentException($"{o.Name} {port}: give a port from 1 to 65535");
            }
        }

        int silo = r.GetValue(siloPort) ?? config.SiloPort, gateway = r.GetValue(gatewayPort) ?? config.GatewayPort;
        if (silo == gateway)
        {
            throw new ArgumentException($"--cluster {clusterFile}: the silo port and the gateway port are both {silo}; give --silo-port and --gateway-port different ports");
        }

        return config;
    }

    /// <summary>Opens the cluster's database, or one line naming the server and the fix when it cannot be reached or refuses the login.</summary>
    private static LiberDatabase OpenDatabase(string clusterFile, ClusterConfig config)
    {
        try
        {
            return LiberDatabase.Open(config.ConnectionString);
        }
        catch (Npgsql.NpgsqlException e)
        {
            var where = new Npgsql.NpgsqlConnectionStringBuilder(config.ConnectionString);
            throw new UserErrorException($"--cluster {clusterFile}: cannot use the database {where.Database} at {where.Host}:{where.Port} as {where.Username}: {e.Message.Split('\n')[0]}; start it (bash build/cluster-db.sh) or fix \"postgres\"");
        }
    }

    /// <summary>Checks a --urls value: ';'-separated http(s) URLs whose port, when given, is a number from 0 to 65535.</summary>
    public static void ValidateUrls(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        foreach (string url in urls.Split(';', StringSplitOptions.TrimEntries))
        {
            int scheme = url.IndexOf("://", StringComparison.Ordinal);
            string name = scheme < 0 ? "" : url[..scheme];
            string rest = scheme < 0 ? "" : url[(scheme + 3)..];
            string hostPort = rest.Split('/')[0];
            int colon = hostPort.LastIndexOf(':');
            bool portOk = colon < 0 || hostPort.EndsWith(']')
                || (int.TryParse(hostPort[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) && port <= 65535);
            string host = colon < 0 || hostPort.EndsWith(']') ? hostPort : hostPort[..colon];
            if (name is not ("http" or "https") || host.Length == 0 || !portOk)
            {
                throw new ArgumentException($"--urls {urls}: '{url}' is not an http(s) URL with a host and a port from 0 to 65535; give e.g. http://127.0.0.1:5080 (port 0 picks a free one)");
            }
        }
    }

    /// <summary>Why starting the server failed to bind its address, or null for any other failure (a bug: exit 2).</summary>
    private static string? BindFailure(Exception e) => e switch
    {
        Microsoft.AspNetCore.Connections.AddressInUseException => "address already in use",
        IOException io when io.Message.StartsWith("Failed to bind", StringComparison.Ordinal) => io.InnerException?.Message ?? io.Message,
        System.Net.Sockets.SocketException s => s.Message,
        _ => null,
    };
}
