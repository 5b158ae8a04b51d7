using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Liber.Serve.Load;

/// <summary>
/// A tiny stand-in for liber serve (HttpListener on loopback) that speaks the contract's /v1/events, /v1/items and
/// /v1/rank shapes: it checks the API key, dedups event ids and counts per-user timestamp regressions, so a smoke run
/// shows that the generator sends what it claims. It scores nothing.
/// </summary>
internal sealed class FakeService : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _apiKey;
    private readonly ConcurrentDictionary<long, byte> _ids = new();
    private readonly ConcurrentDictionary<string, long> _lastTimestamp = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private long _outOfOrder, _items, _ranks;

    public FakeService(string apiKey)
    {
        _apiKey = apiKey;
        int port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri Url { get; }

    public long EventIds => _ids.Count;

    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

    public long ItemsUpserted => Interlocked.Read(ref _items);

    public long RankCalls => Interlocked.Read(ref _ranks);

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // the listener's pending GetContext fails when it stops
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        int status = 200;
        string body;
        try
        {
            using var doc = await JsonDocument.ParseAsync(ctx.Request.InputStream).ConfigureAwait(false);
            string path = ctx.Request.Url?.AbsolutePath ?? "";
            bool write = path is "/v1/events" or "/v1/items";
            if (write && ctx.Request.Headers["X-Api-Key"] != _apiKey)
            {
                (status, body) = (401, """{"title":"missing or wrong API key"}""");
            }
            else
            {
                (status, body) = path switch
                {
                    "/v1/events" => (200, Events(doc.RootElement)),
                    "/v1/items" => (200, $$"""{"upserted":{{Interlocked.Add(ref _items, doc.RootElement.GetProperty("items").GetArrayLength())}}}"""),
                    "/v1/rank" => (200, Rank(doc.RootElement)),
                    _ => (404, """{"title":"not found"}"""),
                };
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            (status, body) = (400, """{"title":"bad request"}""");
        }

        byte[] bytes = Encoding.UTF8.GetBytes(body);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = status == 200 ? "application/json" : "application/problem+json";
        ctx.Response.ContentLength64 = bytes.Length;
        await ctx.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        ctx.Response.Close();
    }

    private string Events(JsonElement root)
    {
        int applied = 0, duplicates = 0;
        foreach (JsonElement e in root.GetProperty("events").EnumerateArray())
        {
            if (!_ids.TryAdd(e.GetProperty("event_id").GetInt64(), 0))
            {
                duplicates++;
                continue;
            }

            applied++;
            long ts = e.GetProperty("timestamp").GetInt64();
            string user = e.GetProperty("user").GetString()!;
            _lastTimestamp.AddOrUpdate(user, ts, (_, last) =>
            {
                if (ts < last)
                {
                    Interlocked.Increment(ref _outOfOrder);
                }

                return Math.Max(ts, last);
            });
        }

        return $$"""{"applied":{{applied}},"duplicates":{{duplicates}},"rejected":[],"closed_partitions":[]}""";
    }

    private string Rank(JsonElement root)
    {
        Interlocked.Increment(ref _ranks);
        var sb = new StringBuilder("{\"user\":").Append(JsonSerializer.Serialize(root.GetProperty("user").GetString())).Append(",\"model\":\"fake\",\"scores\":[");
        bool first = true;
        foreach (JsonElement c in root.GetProperty("candidates").EnumerateArray())
        {
            sb.Append(first ? "" : ",").Append("{\"item\":").Append(JsonSerializer.Serialize(c.GetString())).Append(",\"score\":0.5}");
            first = false;
        }

        return sb.Append("],\"history_events\":0,\"partitions_used\":0,\"partitions_pending\":[]}").ToString();
    }
}
