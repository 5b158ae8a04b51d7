using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Liber.Interests.Benchmarks;

/// <summary>A chat-completions request as the stub received it.</summary>
/// <param name="Number">1-based arrival number.</param>
/// <param name="Body">The request body.</param>
/// <param name="System">Text of the system message.</param>
/// <param name="User">Text of the last user message.</param>
/// <param name="ReceivedUtc">Arrival time.</param>
public sealed record StubRequest(int Number, JsonElement Body, string System, string User, DateTime ReceivedUtc)
{
    /// <summary>The Authorization header, if any.</summary>
    public string? Authorization { get; init; }

    /// <summary>Whether the request asked for a JSON response format.</summary>
    public bool WantsJson => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("response_format", out JsonElement f) && f.ValueKind == JsonValueKind.Object;

    /// <summary>Whether the prompt is a one-call prompt for a user's first partition (shift must be null).</summary>
    public bool IsFirstPartition => User.Contains("\"shift\" must be null", StringComparison.Ordinal);
}

/// <summary>How the stub answers one request.</summary>
public sealed record StubReply
{
    /// <summary>HTTP status (200 answers with a completion).</summary>
    public int Status { get; init; } = 200;

    /// <summary>Answer text (null: the stub's deterministic default for the prompt).</summary>
    public string? Content { get; init; }

    /// <summary>Retry-After header value in seconds, if any.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Wait before answering (slow server, or a timeout when longer than the client's).</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Send only the first half of the body, then drop the connection.</summary>
    public bool Truncate { get; init; }

    /// <summary>Send this raw body instead of a completion (malformed JSON).</summary>
    public string? RawBody { get; init; }

    /// <summary>Whether to include the usage field.</summary>
    public bool Usage { get; init; } = true;

    /// <summary>A normal answer.</summary>
    public static StubReply Ok { get; } = new();
}

/// <summary>
/// A local OpenAI-compatible chat-completions server on loopback (HttpListener) for tests and benchmarks:
/// answers deterministically from the prompt (the same prompt gets the same answer), records every request,
/// and injects faults through <see cref="Plan"/>: error statuses with Retry-After, slow and timed-out
/// answers, truncated and malformed bodies.
/// </summary>
public sealed class OpenAiStubServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _loop;
    private readonly ConcurrentQueue<StubRequest> _requests = new();
    private readonly CancellationTokenSource _stop = new();
    private int _count;

    /// <summary>Starts a server on a free loopback port.</summary>
    public OpenAiStubServer(Func<StubRequest, StubReply>? plan = null)
    {
        Plan = plan ?? (_ => StubReply.Ok);
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                _listener = listener;
                Endpoint = new Uri($"http://127.0.0.1:{port}/v1");
                break;
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                Shut(listener);
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Base URL to give the client, e.g. http://127.0.0.1:PORT/v1.</summary>
    public Uri Endpoint { get; }

    /// <summary>Decides the reply to each request (may be replaced between runs).</summary>
    public Func<StubRequest, StubReply> Plan { get; set; }

    /// <summary>Requests received so far.</summary>
    public int RequestCount => Volatile.Read(ref _count);

    /// <summary>Every request received, in arrival order.</summary>
    public IReadOnlyList<StubRequest> Requests => [.. _requests.OrderBy(r => r.Number)];

    /// <summary>The default answer to a request: a summary or shift that quotes a hash of the prompt, or the one-call JSON.</summary>
    public static string DefaultContent(StubRequest request)
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(request.User)))[..12];
        if (request.WantsJson || request.User.Contains("Answer with one JSON object", StringComparison.Ordinal))
        {
            return new JsonObject
            {
                ["summary"] = $"Stub summary {hash}: likes the items shown.",
                ["shift"] = request.IsFirstPartition ? null : $"Stub shift {hash}: moved on.",
            }.ToJsonString();
        }

        return request.User.StartsWith("Task: describe how", StringComparison.Ordinal)
            ? $"Stub shift {hash}: interests moved."
            : $"Stub summary {hash}: likes the items shown.";
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        Shut(_listener);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    /// <summary>
    /// Stops and closes a listener. On Linux, the managed HttpListener's Close can try to bind the endpoint again to
    /// unregister its prefixes, and throws "Address already in use" when another process now holds that port (seen in CI
    /// after a test killed a child process): the listener is gone either way, so that error is ignored.
    /// </summary>
    internal static void Shut(HttpListener listener)
    {
        try
        {
            listener.Stop();
            listener.Close();
        }
        catch (HttpListenerException)
        {
        }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
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
        try
        {
            JsonElement body;
            using (var doc = await JsonDocument.ParseAsync(ctx.Request.InputStream).ConfigureAwait(false))
            {
                body = doc.RootElement.Clone();
            }

            string system = string.Empty, user = string.Empty;
            if (body.TryGetProperty("messages", out JsonElement messages))
            {
                foreach (JsonElement m in messages.EnumerateArray())
                {
                    string role = m.GetProperty("role").GetString() ?? string.Empty;
                    string text = m.GetProperty("content") is { ValueKind: JsonValueKind.String } c ? c.GetString()! : string.Concat(m.GetProperty("content").EnumerateArray().Select(p => p.GetProperty("text").GetString()));
                    if (role == "system")
                    {
                        system = text;
                    }
                    else if (role == "user")
                    {
                        user = text;
                    }
                }
            }

            var request = new StubRequest(Interlocked.Increment(ref _count), body, system, user, DateTime.UtcNow) { Authorization = ctx.Request.Headers["Authorization"] };
            _requests.Enqueue(request);
            StubReply reply = Plan(request);
            if (reply.Delay > TimeSpan.Zero)
            {
                await Task.Delay(reply.Delay, _stop.Token).ConfigureAwait(false);
            }

            await WriteAsync(ctx, request, reply).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException or JsonException or InvalidOperationException)
        {
            // The client went away (timeout) or the server is stopping.
            try
            {
                ctx.Response.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private static async Task WriteAsync(HttpListenerContext ctx, StubRequest request, StubReply reply)
    {
        HttpListenerResponse response = ctx.Response;
        response.StatusCode = reply.Status;
        response.ContentType = "application/json";
        if (reply.RetryAfterSeconds is int after)
        {
            response.Headers["Retry-After"] = after.ToString(CultureInfo.InvariantCulture);
        }

        string text;
        if (reply.RawBody is not null)
        {
            text = reply.RawBody;
        }
        else if (reply.Status != 200)
        {
            text = new JsonObject { ["error"] = new JsonObject { ["message"] = $"stub fault {reply.Status}", ["type"] = "server_error" } }.ToJsonString();
        }
        else
        {
            string content = reply.Content ?? DefaultContent(request);
            var completion = new JsonObject
            {
                ["id"] = "chatcmpl-stub-" + request.Number.ToString(CultureInfo.InvariantCulture),
                ["object"] = "chat.completion",
                ["created"] = 1_700_000_000,
                ["model"] = request.Body.TryGetProperty("model", out JsonElement m) ? m.GetString() : "stub",
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
                    ["finish_reason"] = "stop",
                }),
            };
            if (reply.Usage)
            {
                int p = (request.System.Length + request.User.Length) / 4, c = Math.Max(1, content.Length / 4);
                completion["usage"] = new JsonObject { ["prompt_tokens"] = p, ["completion_tokens"] = c, ["total_tokens"] = p + c };
            }

            text = completion.ToJsonString();
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text);
        response.ContentLength64 = bytes.Length;
        if (reply.Truncate)
        {
            await response.OutputStream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2)).ConfigureAwait(false);
            await response.OutputStream.FlushAsync().ConfigureAwait(false);
            response.Abort();
            return;
        }

        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        response.Close();
    }
}
