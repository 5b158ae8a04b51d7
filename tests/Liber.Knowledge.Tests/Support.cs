using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Liber.Knowledge;
using Liber.Knowledge.Chunking;
using Liber.Knowledge.Encoders;
using Microsoft.Extensions.AI;

namespace Liber.Knowledge.Tests;

/// <summary>A deterministic fake encoder: a text's vector is derived from its SHA-256 (seeded by a salt), and every call is counted.</summary>
internal sealed class CountingGenerator(int dimension, string salt = "") : IEmbeddingGenerator<string, Embedding<float>>
{
    public int Calls { get; private set; }

    public List<string> Seen { get; } = [];

    public static float[] VectorOf(string text, int dimension, string salt)
    {
        var v = new float[dimension];
        byte[] seed = SHA256.HashData(Encoding.UTF8.GetBytes(salt + "\u0001" + text));
        var rng = new Random(BitConverter.ToInt32(seed, 0));
        double norm = 0;
        for (int i = 0; i < dimension; i++)
        {
            v[i] = (float)(rng.NextDouble() - 0.5);
            norm += v[i] * v[i];
        }

        for (int i = 0; i < dimension; i++)
        {
            v[i] = (float)(v[i] / Math.Sqrt(norm));
        }

        return v;
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        var list = values.ToList();
        Seen.AddRange(list);
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(list.Select(t => new Embedding<float>(VectorOf(t, dimension, salt)))));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

/// <summary>One word = one token, plus two special tokens (like BERT's [CLS] and [SEP]).</summary>
internal sealed class WordTokenizer : IEncoderTokenizer
{
    public int SpecialTokens => 2;

    public int CountTokens(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length + SpecialTokens;
}

internal static class Fakes
{
    /// <summary>A handle over a counting fake, with the same chunking/batching pipeline as the real encoders.</summary>
    public static (EncoderHandle Handle, CountingGenerator Raw) Handle(string name = "fake", int dimension = 8, int window = 64, int maxBatch = 64, string salt = "")
    {
        var raw = new CountingGenerator(dimension, salt);
        var tokenizer = new WordTokenizer();
        var options = new MiniLmOptions { MaxBatchSize = maxBatch, WindowTokens = window };
        var info = new EncoderInfo(name, "fake-model", dimension, "v1;" + salt, window);
        var pipeline = new ChunkingEmbeddingGenerator(new BatchingEmbeddingGenerator(raw, maxBatch), tokenizer, window);
        return (new EncoderHandle(options, info, tokenizer, pipeline), raw);
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += (double)a[i] * b[i];
        }

        return s;
    }

    public static double Norm(ReadOnlySpan<float> a) => Math.Sqrt(Dot(a, a));
}

/// <summary>A temporary folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "liber-knowledge-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One MiniLM model for all tests that need it (loading takes about a second).</summary>
public sealed class MiniLmFixture : IDisposable
{
    public EncoderHandle Encoder { get; } = KnowledgeEncoders.Create(new MiniLmOptions { Threads = 2 });

    public void Dispose() => Encoder.Dispose();
}

[CollectionDefinition("minilm")]
public sealed class MiniLmCollection : ICollectionFixture<MiniLmFixture>
{
}

/// <summary>A request the stub server received.</summary>
internal sealed record StubRequest(string Method, string Path, string? Authorization, JsonElement Body);

/// <summary>
/// A loopback OpenAI-compatible embeddings server (HttpListener on 127.0.0.1, a free port). By default it answers
/// POST /v1/embeddings with deterministic vectors, as floats or base64 as the request asks.
/// </summary>
internal sealed class StubEmbeddingServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task loop;
    private readonly int dimension;

    public StubEmbeddingServer(int dimension = 6, Func<StubRequest, (int Status, string Body)?>? respond = null)
    {
        this.dimension = dimension;
        Respond = respond;
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            listener.Prefixes.Clear();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                Endpoint = new Uri($"http://127.0.0.1:{port}/v1");
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }

        loop = Task.Run(Serve);
    }

    public Uri Endpoint { get; private set; } = null!;

    public List<StubRequest> Requests { get; } = [];

    /// <summary>An override: return a status and body, or null for the default answer.</summary>
    public Func<StubRequest, (int Status, string Body)?>? Respond { get; set; }

    public static string Answer(IReadOnlyList<float[]> vectors, bool base64, string model = "stub-model")
    {
        var data = vectors.Select((v, i) => new Dictionary<string, object>
        {
            ["object"] = "embedding",
            ["index"] = i,
            ["embedding"] = base64 ? Convert.ToBase64String(v.SelectMany(BitConverter.GetBytes).ToArray()) : v,
        });
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = model,
            ["usage"] = new Dictionary<string, int> { ["prompt_tokens"] = 7 * vectors.Count, ["total_tokens"] = 7 * vectors.Count },
        });
    }

    public void Dispose()
    {
        try
        {
            listener.Stop();
            listener.Close();
        }
        catch (HttpListenerException)
        {
            // Linux's managed HttpListener may rebind the port to unregister it and fail if another process took it.
        }

        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private async Task Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            string text = await reader.ReadToEndAsync();
            JsonElement body = text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default;
            var request = new StubRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Headers["Authorization"], body);
            lock (Requests)
            {
                Requests.Add(request);
            }

            (int status, string answer) = Respond?.Invoke(request) ?? Default(request);
            byte[] bytes = Encoding.UTF8.GetBytes(answer);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private (int, string) Default(StubRequest request)
    {
        if (request.Method != "POST" || request.Path != "/v1/embeddings")
        {
            return (404, """{"error":{"message":"not found"}}""");
        }

        var inputs = request.Body.GetProperty("input").EnumerateArray().Select(e => e.GetString()!).ToList();
        bool base64 = request.Body.TryGetProperty("encoding_format", out var f) && f.GetString() == "base64";
        return (200, Answer([.. inputs.Select(t => CountingGenerator.VectorOf(t, dimension, "stub"))], base64));
    }
}
