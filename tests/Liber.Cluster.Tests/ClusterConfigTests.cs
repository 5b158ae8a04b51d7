using Npgsql;

namespace Liber.Cluster.Tests;

/// <summary>The cluster file of <c>liber serve --cluster</c>: read strictly, the database from the file or the environment, a bounded pool.</summary>
public sealed class ClusterConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-cluster-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json)
    {
        string path = Path.Combine(_dir, "cluster.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Defaults_the_environment_database_and_a_bounded_pool()
    {
        ClusterConfig c = ClusterConfig.Read(Write("{ \"cluster_id\": \"c1\" }"), v => v == ClusterConfig.PostgresVariable ? "Host=db;Database=x;Username=u" : null);
        Assert.Equal(("c1", "liber", 11111, 30000, "127.0.0.1"), (c.ClusterId, c.ServiceId, c.SiloPort, c.GatewayPort, c.AdvertisedAddress));
        Assert.Equal(ClusterConfig.DefaultPoolSize, new NpgsqlConnectionStringBuilder(c.ConnectionString).MaxPoolSize);

        // The file's database wins over the environment, and a pool size it sets is kept.
        c = ClusterConfig.Read(Write("{ \"postgres\": \"Host=h;Maximum Pool Size=5\", \"silo_port\": 2000, \"gateway_port\": 2001 }"), _ => "Host=other");
        Assert.Equal("h", new NpgsqlConnectionStringBuilder(c.ConnectionString).Host);
        Assert.Equal(5, new NpgsqlConnectionStringBuilder(c.ConnectionString).MaxPoolSize);
        Assert.Equal((2000, 2001), (c.SiloPort, c.GatewayPort));
    }

    [Theory]
    [InlineData("{ \"postgres\": \"Host=h\", \"silo_prot\": 1 }", "silo_prot")]
    [InlineData("{ \"postgres\": \"Host=h\", \"silo_port\": 0 }", "\"silo_port\" 0 is not a port from 1 to 65535")]
    [InlineData("{ \"postgres\": \"Host=h\", \"silo_port\": 3000, \"gateway_port\": 3000 }", "are both 3000")]
    [InlineData("{ \"postgres\": \"Host=h\", \"cluster_id\": \"a b\" }", "\"cluster_id\" must be a non-empty id without spaces")]
    [InlineData("{ \"postgres\": \"Host=h\", \"advertised_address\": \"localhost\" }", "is not an IP address")]
    [InlineData("{ \"postgres\": \"Hots=h\" }", "\"postgres\" is not an Npgsql connection string")]
    [InlineData("{ }", "no database")]
    [InlineData("{ \"silo_port\": \"x\" }", "line 1")]
    public void Bad_files_are_errors_naming_the_file_and_the_key(string json, string message)
    {
        string path = Write(json);
        var e = Assert.Throws<ArgumentException>(() => ClusterConfig.Read(path, _ => null));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_says_so()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ClusterConfig.Read(Path.Combine(_dir, "none.json"), _ => null));
        Assert.Contains("none.json not found", e.Message, StringComparison.Ordinal);
    }
}
