using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;

namespace Liber.Cluster;

/// <summary>
/// The cluster file of <c>liber serve --cluster</c>: what every silo of one cluster shares (the database, the cluster's
/// and service's ids) and the default ports of a silo. Read strictly: an unknown key, a bad value or a missing database
/// is an error naming the file and the key. Example:
/// <code>{ "postgres": "Host=127.0.0.1;Port=5432;Database=liber_cluster;Username=liber;Password=liber",
///   "cluster_id": "liber", "service_id": "liber", "silo_port": 11111, "gateway_port": 30000, "statistics": true }</code>
/// <c>postgres</c> may be left out when <c>LIBER_CLUSTER_PG</c> holds the connection string (keeps the password out of
/// the file).
/// </summary>
public sealed record ClusterConfig
{
    /// <summary>The environment variable read when the file names no database.</summary>
    public const string PostgresVariable = "LIBER_CLUSTER_PG";

    /// <summary>Npgsql connection string of the cluster's database (membership, grain state, Liber's tables).</summary>
    [JsonPropertyName("postgres")] public string? Postgres { get; init; }

    /// <summary>Orleans cluster id: silos with the same id form one cluster.</summary>
    [JsonPropertyName("cluster_id")] public string ClusterId { get; init; } = "liber";

    /// <summary>Orleans service id: the key of the grains' stored state (keep it across deployments).</summary>
    [JsonPropertyName("service_id")] public string ServiceId { get; init; } = "liber";

    /// <summary>Silo-to-silo port (each silo on one host needs its own; <c>--silo-port</c> overrides).</summary>
    [JsonPropertyName("silo_port")] public int SiloPort { get; init; } = 11111;

    /// <summary>Client gateway port (each silo on one host needs its own; <c>--gateway-port</c> overrides).</summary>
    [JsonPropertyName("gateway_port")] public int GatewayPort { get; init; } = 30000;

    /// <summary>The address the silo advertises to the others (loopback by default: a one-host cluster).</summary>
    [JsonPropertyName("advertised_address")] public string AdvertisedAddress { get; init; } = "127.0.0.1";

    /// <summary>
    /// Whether the user grains count every applied event into shared point-in-time statistics in the database (default
    /// true), so the silos serve checkpoints trained with <c>--stats on</c> (<c>liber train</c>'s default). Costs one more
    /// database transaction per user per batch. Fixed for the database's life: every silo must agree.
    /// </summary>
    [JsonPropertyName("statistics")] public bool Statistics { get; init; } = true;

    /// <summary>Connections per Npgsql pool when the connection string sets no <c>Maximum Pool Size</c>: a silo holds two pools (Orleans' providers and Liber's tables).</summary>
    public const int DefaultPoolSize = 16;

    /// <summary>
    /// <see cref="Postgres"/> as the silo uses it: with <c>Maximum Pool Size</c> = <see cref="DefaultPoolSize"/> unless it
    /// sets one (Npgsql's default of 100 per pool would let three silos exhaust PostgreSQL's default 100 connections).
    /// </summary>
    public string ConnectionString
    {
        get
        {
            string pg = Postgres ?? throw new InvalidOperationException("the cluster config names no database");
            return pg.Contains("pool size", StringComparison.OrdinalIgnoreCase)
                ? pg
                : new NpgsqlConnectionStringBuilder(pg) { MaxPoolSize = DefaultPoolSize }.ConnectionString;
        }
    }

    private static readonly JsonSerializerOptions Json = new() { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Reads and checks <paramref name="path"/>, taking the database from <c>LIBER_CLUSTER_PG</c> when the file names none.</summary>
    public static ClusterConfig Read(string path, Func<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        environment ??= Environment.GetEnvironmentVariable;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"cluster file {path} not found: write one as docs/cluster.md shows", path);
        }

        ClusterConfig config;
        try
        {
            config = JsonSerializer.Deserialize<ClusterConfig>(File.ReadAllText(path), Json) ?? throw new JsonException("the file holds null, not an object");
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" (line {line + 1}{(e.Path is { Length: > 0 } p ? $", {p}" : "")})" : "";
            throw new ArgumentException($"cluster file {path}{where}: {e.Message}", e);
        }

        if (string.IsNullOrWhiteSpace(config.Postgres))
        {
            config = config with { Postgres = environment(PostgresVariable) };
        }

        config.Check(path);
        return config;
    }

    /// <summary>Checks the values, naming <paramref name="source"/> and the key.</summary>
    public void Check(string source)
    {
        if (string.IsNullOrWhiteSpace(Postgres))
        {
            throw new ArgumentException($"cluster file {source}: no database: set \"postgres\" to an Npgsql connection string or export {PostgresVariable} (bash build/cluster-db.sh prints one)");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(Postgres);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"cluster file {source}: \"postgres\" is not an Npgsql connection string: {e.Message}", e);
        }

        foreach ((string key, string value) in new[] { ("cluster_id", ClusterId), ("service_id", ServiceId) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                throw new ArgumentException($"cluster file {source}: \"{key}\" must be a non-empty id without spaces, got '{value}'");
            }
        }

        CheckPort(source, "silo_port", SiloPort);
        CheckPort(source, "gateway_port", GatewayPort);
        if (SiloPort == GatewayPort)
        {
            throw new ArgumentException($"cluster file {source}: \"silo_port\" and \"gateway_port\" are both {SiloPort}; give them different ports");
        }

        if (!System.Net.IPAddress.TryParse(AdvertisedAddress, out _))
        {
            throw new ArgumentException($"cluster file {source}: \"advertised_address\" '{AdvertisedAddress}' is not an IP address");
        }
    }

    private static void CheckPort(string source, string key, int port)
    {
        if (port is < 1 or > 65535)
        {
            throw new ArgumentException($"cluster file {source}: \"{key}\" {port} is not a port from 1 to 65535");
        }
    }
}
