using Liber.Interests.Backends;
using Liber.Interests.Learning;
using Microsoft.Extensions.AI;

namespace Liber.Pipeline;

/// <summary>
/// A UIL backend and the chat client it owns (null for the template writer); its static members are the backend catalog,
/// one line per kind (template, openai, llama), with the rules each kind runs under (<see cref="Limit"/>).
/// </summary>
/// <param name="Backend">The backend for <see cref="InterestLearner"/>.</param>
/// <param name="Client">The client to dispose after use, or null.</param>
public sealed record LlmBackend(InterestBackend Backend, IChatClient? Client) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Client?.Dispose();

    /// <summary>The backend kinds, in the order shown in help.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["template", "openai", "llama"];

    /// <summary>
    /// The learn options a backend of <paramref name="kind"/> runs with: a local llama model serves one request at a time
    /// (LLamaSharp's context is not shared between concurrent requests), so its requests in flight are 1 whatever was asked.
    /// </summary>
    public static LearnOptions Limit(string kind, LearnOptions learn)
    {
        ArgumentNullException.ThrowIfNull(learn);
        return kind == "llama" && learn.MaxInFlight != 1 ? learn with { MaxInFlight = 1 } : learn;
    }

    /// <summary>Creates a backend: template, openai (endpoint + model; key from LIBER_LLM_API_KEY, OPENAI_API_KEY or a file) or llama (GGUF).</summary>
    public static LlmBackend Create(string kind, string? endpoint, string? model, string? keyFile, string? gguf, int llamaThreads, TimeSpan requestTimeout)
    {
        switch (kind)
        {
            case "template":
                return new LlmBackend(InterestBackend.Template(), null);
            case "openai":
                Uri url = ParseEndpoint(endpoint ?? throw new ArgumentException("--backend openai needs --endpoint URL and --model NAME"));
                string m = model ?? throw new ArgumentException("--backend openai needs --model NAME");
                IChatClient client = OpenAiBackend.Create(new OpenAiSettings
                {
                    Endpoint = url,
                    Model = m,
                    ApiKey = keyFile is string f ? OpenAiBackend.ApiKeyFromFile(f) : OpenAiBackend.ApiKeyFromEnvironment(),
                    NetworkTimeout = requestTimeout + TimeSpan.FromSeconds(30),
                });
                return new LlmBackend(InterestBackend.ForChat("openai", m, client), client);
            case "llama":
                var llama = LlamaChatClient.Load(new LlamaSettings { ModelPath = gguf ?? throw new ArgumentException("--backend llama needs --gguf FILE"), Threads = llamaThreads });
                return new LlmBackend(InterestBackend.ForChat("llama", llama.ModelName, llama), llama);
            default:
                throw new ArgumentException($"unknown backend '{kind}': template, openai or llama");
        }
    }

    /// <summary>Parses an --endpoint value: an absolute http or https URL, else one line naming the value and an example.</summary>
    public static Uri ParseEndpoint(string endpoint, string flag = "--endpoint")
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        // On Unix "/v1" parses as an absolute file URL: a value without "://" is relative whatever Uri makes of it.
        bool absolute = endpoint.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(endpoint, UriKind.Absolute, out _);
        Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? url);
        if (!absolute || url is null || url.Scheme is not ("http" or "https") || string.IsNullOrEmpty(url.Host))
        {
            string why = !absolute || url is null ? "not an absolute URL" : string.IsNullOrEmpty(url.Host) ? "no host" : $"scheme '{url.Scheme}' is not http or https";
            throw new ArgumentException($"{flag} {endpoint}: {why}; give the server's base URL, e.g. http://127.0.0.1:8000/v1");
        }

        return url;
    }
}
