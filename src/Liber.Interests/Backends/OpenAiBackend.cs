using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Liber.Interests.Backends;

/// <summary>Connection settings of an OpenAI-compatible server (vLLM, Ollama, llama.cpp server, LM Studio, OpenAI, Azure OpenAI).</summary>
public sealed record OpenAiSettings
{
    /// <summary>Base URL, e.g. <c>http://127.0.0.1:8000/v1</c>.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>Model name as the server knows it.</summary>
    public required string Model { get; init; }

    /// <summary>API key (null: <see cref="OpenAiBackend.ApiKeyFromEnvironment"/>; none at all uses a placeholder, for local servers that need no key).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Transport-level timeout; the runner's per-attempt timeout should be shorter so that it fires first.</summary>
    public TimeSpan NetworkTimeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>Connections kept per server (at least the runner's requests in flight).</summary>
    public int MaxConnections { get; init; } = 256;
}

/// <summary>The <c>openai</c> backend: Microsoft.Extensions.AI's <see cref="IChatClient"/> over the official OpenAI client.</summary>
public static class OpenAiBackend
{
    /// <summary>Environment variables read for the API key, in order.</summary>
    public static IReadOnlyList<string> KeyVariables { get; } = ["LIBER_LLM_API_KEY", "OPENAI_API_KEY"];

    /// <summary>The API key from <c>LIBER_LLM_API_KEY</c>, else <c>OPENAI_API_KEY</c>, else null.</summary>
    public static string? ApiKeyFromEnvironment() =>
        KeyVariables.Select(Environment.GetEnvironmentVariable).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    /// <summary>Reads an API key from a file (first non-empty line), naming the file on error.</summary>
    public static string ApiKeyFromFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"API key file '{path}' not found", path);
        }

        return File.ReadLines(path).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0)
            ?? throw new ArgumentException($"API key file '{path}' is empty");
    }

    /// <summary>
    /// Creates the chat client. The OpenAI client's own retries are switched off: the runner retries with
    /// Polly (backoff, jitter, Retry-After, circuit breaker), so that every attempt is counted and bounded.
    /// The key is handed to the client only and never logged.
    /// </summary>
    public static IChatClient Create(OpenAiSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Endpoint.IsAbsoluteUri || (settings.Endpoint.Scheme != Uri.UriSchemeHttp && settings.Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"endpoint '{settings.Endpoint}' must be an absolute http(s) URL such as http://127.0.0.1:8000/v1");
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(settings.Model);
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = settings.MaxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var options = new OpenAIClientOptions
        {
            Endpoint = settings.Endpoint,
            NetworkTimeout = settings.NetworkTimeout,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            Transport = new HttpClientPipelineTransport(http),
        };
        string key = settings.ApiKey ?? ApiKeyFromEnvironment() ?? "no-key";
        return new OpenAI.Chat.ChatClient(settings.Model, new ApiKeyCredential(key), options).AsIChatClient();
    }
}
