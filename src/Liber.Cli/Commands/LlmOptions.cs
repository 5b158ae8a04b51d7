using System.CommandLine;
using Liber.Interests.Backends;
using Liber.Interests.Learning;
using Liber.Interests.Prompts;
using Microsoft.Extensions.AI;

namespace Liber.Cli.Commands;

/// <summary>A UIL backend and the chat client it owns (null for the template writer).</summary>
/// <param name="Backend">The backend for <see cref="InterestLearner"/>.</param>
/// <param name="Client">The client to dispose after use, or null.</param>
public sealed record LlmBackend(InterestBackend Backend, IChatClient? Client) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Client?.Dispose();

    /// <summary>Creates a backend: template, openai (endpoint + model; key from LIBER_LLM_API_KEY, OPENAI_API_KEY or a file) or llama (GGUF).</summary>
    public static LlmBackend Create(string kind, string? endpoint, string? model, string? keyFile, string? gguf, int llamaThreads, TimeSpan requestTimeout)
    {
        switch (kind)
        {
            case "template":
                return new LlmBackend(InterestBackend.Template(), null);
            case "openai":
                var url = new Uri(endpoint ?? throw new ArgumentException("--backend openai needs --endpoint URL and --model NAME"), UriKind.Absolute);
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
}

/// <summary>The UIL options shared by the verbs that learn interest texts (learn, train, demo): backend, server, mode, cache, budget, sampling.</summary>
public sealed class LlmOptions
{
    /// <summary>--backend.</summary>
    public Option<string> Backend { get; } = new("--backend") { Description = "UIL backend: template (offline default: deterministic statistics writer, no LLM), openai (any OpenAI-compatible server) or llama (local GGUF via LLamaSharp)", DefaultValueFactory = _ => "template" };

    /// <summary>--endpoint.</summary>
    public Option<string?> Endpoint { get; } = new("--endpoint") { Description = "openai: base URL, e.g. http://127.0.0.1:8000/v1 (implies --backend openai; API key from --api-key-file, else LIBER_LLM_API_KEY, else OPENAI_API_KEY, else none)" };

    /// <summary>--model.</summary>
    public Option<string?> Model { get; } = new("--model") { Description = "openai: model name" };

    /// <summary>--api-key-file.</summary>
    public Option<string?> KeyFile { get; } = new("--api-key-file") { Description = "openai: file holding the API key (first line)" };

    /// <summary>--gguf.</summary>
    public Option<string?> Gguf { get; } = new("--gguf") { Description = "llama: GGUF model file" };

    /// <summary>--mode.</summary>
    public Option<string> Mode { get; } = new("--mode") { Description = "two-call (default, as the paper: summary then shift) or one-call (one JSON answer with both, half the calls)", DefaultValueFactory = _ => "two-call" };

    /// <summary>--domain.</summary>
    public Option<string?> Domain { get; } = new("--domain") { Description = "prompt domain: movies, music or generic (default: from the data set kind)" };

    /// <summary>--cache.</summary>
    public Option<string?> Cache { get; } = new("--cache") { Description = "SQLite answer cache; a rerun makes no call for work already done, and resumes a killed run" };

    /// <summary>--max-in-flight.</summary>
    public Option<int> InFlight { get; } = new("--max-in-flight") { Description = "requests in flight at most", DefaultValueFactory = _ => 16 };

    /// <summary>--max-calls.</summary>
    public Option<long?> MaxCalls { get; } = new("--max-calls") { Description = "run budget: LLM calls at most (the run stops cleanly)" };

    /// <summary>--max-tokens.</summary>
    public Option<long?> MaxTokens { get; } = new("--max-tokens") { Description = "run budget: prompt + completion tokens at most" };

    /// <summary>--temperature.</summary>
    public Option<float> Temperature { get; } = new("--temperature") { Description = "sampling temperature", DefaultValueFactory = _ => 0f };

    /// <summary>--max-output-tokens.</summary>
    public Option<int> MaxOutput { get; } = new("--max-output-tokens") { Description = "maximum tokens per answer", DefaultValueFactory = _ => 400 };

    /// <summary>--llm-seed.</summary>
    public Option<long?> Seed { get; } = new("--llm-seed") { Description = "sampling seed sent to the server", DefaultValueFactory = _ => 42 };

    /// <summary>--no-json-format.</summary>
    public Option<bool> NoJson { get; } = new("--no-json-format") { Description = "one-call: do not ask the server for a JSON response format (answers are still validated)" };

    /// <summary>--request-timeout.</summary>
    public Option<double> Timeout { get; } = new("--request-timeout") { Description = "seconds per attempt", DefaultValueFactory = _ => 120 };

    /// <summary>--retries.</summary>
    public Option<int> Retries { get; } = new("--retries") { Description = "retries per request (timeouts, 429, 5xx, invalid answers)", DefaultValueFactory = _ => 6 };

    /// <summary>The llama thread option (named by the verb: <c>--threads</c> for learn, <c>--llm-threads</c> where --threads means torch threads).</summary>
    public Option<int> LlamaThreads { get; }

    /// <summary>Creates the options; <paramref name="llamaThreadsName"/> names the llama thread option.</summary>
    public LlmOptions(string llamaThreadsName = "--llm-threads")
    {
        LlamaThreads = new Option<int>(llamaThreadsName) { Description = "llama: CPU threads (2 stall on small machines)", DefaultValueFactory = _ => 1 };
    }

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command c)
    {
        Backend.AcceptOnlyFromAmong("template", "openai", "llama");
        Mode.AcceptOnlyFromAmong("two-call", "one-call");
        foreach (Option o in new Option[] { Backend, Endpoint, Model, KeyFile, Gguf, LlamaThreads, Mode, Domain, Cache, InFlight, MaxCalls, MaxTokens, Temperature, MaxOutput, Seed, NoJson, Timeout, Retries })
        {
            c.Options.Add(o);
        }
    }

    /// <summary>The UIL options of a parse for a data set kind.</summary>
    public LearnOptions ReadLearnOptions(ParseResult r, string datasetKind)
    {
        string kind = BackendKind(r);
        var options = new LearnOptions
        {
            Mode = r.GetValue(Mode) == "one-call" ? LearnMode.OneCall : LearnMode.TwoCall,
            Domain = r.GetValue(Domain) ?? PromptTemplates.DomainFor(datasetKind),
            MaxInFlight = kind == "llama" ? 1 : r.GetValue(InFlight),
            MaxCalls = r.GetValue(MaxCalls),
            MaxTokens = r.GetValue(MaxTokens),
            Sampling = new SamplingOptions { Temperature = r.GetValue(Temperature), MaxOutputTokens = r.GetValue(MaxOutput), Seed = r.GetValue(Seed), JsonResponseFormat = !r.GetValue(NoJson) },
            Resilience = new ResilienceOptions { RequestTimeout = TimeSpan.FromSeconds(r.GetValue(Timeout)), MaxRetries = r.GetValue(Retries) },
        };
        options.Validate();
        return options;
    }

    /// <summary>The backend a parse names: <c>--backend</c>, or openai when only <c>--endpoint</c> is given.</summary>
    public string BackendKind(ParseResult r) =>
        r.GetResult(Backend) is null or { Implicit: true } && r.GetValue(Endpoint) is not null ? "openai" : r.GetValue(Backend) ?? "template";

    /// <summary>Creates the backend a parse names.</summary>
    public LlmBackend CreateBackend(ParseResult r) =>
        LlmBackend.Create(BackendKind(r), r.GetValue(Endpoint), r.GetValue(Model), r.GetValue(KeyFile), r.GetValue(Gguf), r.GetValue(LlamaThreads), TimeSpan.FromSeconds(r.GetValue(Timeout)));
}
