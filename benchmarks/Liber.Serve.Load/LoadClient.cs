using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Liber.Serve.Load;

/// <summary>One pooled HttpClient for the whole run (SocketsHttpHandler keeps connections alive and reuses them).</summary>
internal sealed class LoadClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private readonly HttpClient _http;

    public LoadClient(Uri baseUrl, string? apiKey, int maxConnections, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
        };
        _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = baseUrl, Timeout = timeout };
        if (!string.IsNullOrEmpty(apiKey))
        {
            _http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
    }

    /// <summary>POSTs a JSON body; returns the status, the body and the elapsed milliseconds (or the failure kind).</summary>
    public async Task<Reply> PostAsync(string path, byte[] body, CancellationToken ct)
    {
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = JsonType;
            using HttpResponseMessage response = await _http.PostAsync(new Uri(path, UriKind.Relative), content, ct).ConfigureAwait(false);
            byte[] payload = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            return new Reply((int)response.StatusCode, payload, Stopwatch.GetElapsedTime(t0).TotalMilliseconds, null);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Reply(0, [], Stopwatch.GetElapsedTime(t0).TotalMilliseconds, "timeout");
        }
        catch (HttpRequestException e)
        {
            return new Reply(0, [], Stopwatch.GetElapsedTime(t0).TotalMilliseconds, $"connection: {e.HttpRequestError}");
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>What came back: HTTP status (0 on a transport failure), body, client-side milliseconds, failure kind.</summary>
internal sealed record Reply(int Status, byte[] Body, double Milliseconds, string? Failure)
{
    /// <summary>Null when the reply is a 200 with a JSON body that passes <paramref name="check"/>; otherwise the error kind.</summary>
    public string? Problem(Func<JsonElement, string?>? check = null)
    {
        if (Failure is not null)
        {
            return Failure;
        }

        if (Status != 200)
        {
            return $"status {Status}";
        }

        try
        {
            using var doc = JsonDocument.Parse(Body);
            return check?.Invoke(doc.RootElement);
        }
        catch (JsonException)
        {
            return "bad body: not JSON";
        }
    }
}
