using System.Net;
using System.Net.Sockets;

namespace Liber.Cli.Tests;

/// <summary><c>liber serve</c> mistakes at start: one line, rc 1, no stack trace from us or from the host's logger.</summary>
public sealed class ServeStartTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-serve-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_port_in_use_is_one_line_naming_the_url_printed_once()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        int port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        string url = $"http://127.0.0.1:{port}";
        var (code, output, error) = CliRunner.Binary(TimeSpan.FromSeconds(90), "serve", "--store", Path.Combine(_dir, "s.db"), "--no-nearline", "--insecure-no-auth", "--urls", url);
        Assert.True(code == 1, $"rc {code}: {output} {error}");
        string all = output + error;
        Assert.DoesNotContain("Exception", all, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith($"liber: --urls {url}: cannot listen:", line, StringComparison.Ordinal);
        Assert.Contains("pick another port", line, StringComparison.Ordinal);
        Assert.Equal(1, all.Split("cannot listen").Length - 1);
    }

    [Theory]
    [InlineData("notaurl")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData("ftp://127.0.0.1:5080")]
    public void Bad_urls_are_refused_before_the_store_is_opened(string urls)
    {
        string store = Path.Combine(_dir, "never.db");
        var (code, _, error) = CliRunner.Run("serve", "--store", store, "--no-nearline", "--insecure-no-auth", "--urls", urls);
        Assert.Equal(1, code);
        Assert.StartsWith($"liber: --urls {urls}:", error, StringComparison.Ordinal);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(store));
    }
}
