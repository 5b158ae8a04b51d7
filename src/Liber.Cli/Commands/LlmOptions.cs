using System.CommandLine;
using Liber.Interests.Learning;
using Liber.Interests.Prompts;
using Liber.Pipeline;

namespace Liber.Cli.Commands;

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

    /// <summary>--template-version.</summary>
    public Option<string?> TemplateVersion { get; } = new("--template-version") { Description = $"template backend: the writer's wording, {string.Join(" or ", Liber.Interests.Template.TemplateInterestWriter.Versions)} (default {Liber.Interests.Template.TemplateInterestWriter.Version}; template-v2 writes words for a sentence encoder, docs/knowledge.md)" };

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
        TemplateVersion.AcceptOnlyFromAmong([.. Liber.Interests.Template.TemplateInterestWriter.Versions]);
        foreach (Option o in new Option[] { Backend, Endpoint, Model, KeyFile, Gguf, LlamaThreads, Mode, TemplateVersion, Domain, Cache, InFlight, MaxCalls, MaxTokens, Temperature, MaxOutput, Seed, NoJson, Timeout, Retries })
        {
            c.Options.Add(o);
        }
    }

    /// <summary>Checks the UIL flags of a parse (ranges, the endpoint URL, the backend's required flags) before any work.</summary>
    /// <param name="r">The parse.</param>
    /// <param name="checkpointSetsModel">Whether a checkpoint may supply --model (evaluate, serve).</param>
    /// <param name="backendUsed">Whether the backend will be called (a dry run calls nothing, so it needs no server).</param>
    public void Validate(ParseResult r, bool checkpointSetsModel = false, bool backendUsed = true)
    {
        ArgumentNullException.ThrowIfNull(r);
        FlagChecks.AtLeast(r, InFlight, 1);
        FlagChecks.AtLeast(r, MaxCalls, 0);
        FlagChecks.AtLeast(r, MaxTokens, 0);
        FlagChecks.InRange(r, Temperature, 0, 2);
        FlagChecks.AtLeast(r, MaxOutput, 1);
        FlagChecks.InRange(r, Timeout, 0, double.PositiveInfinity, minOpen: true);
        FlagChecks.AtLeast(r, Retries, 0);
        FlagChecks.AtLeast(r, LlamaThreads, 1);
        if (r.GetValue(Endpoint) is string endpoint)
        {
            LlmBackend.ParseEndpoint(endpoint);
        }

        if (r.GetValue(Domain) is string domain && !PromptTemplates.Domains.Contains(domain))
        {
            throw new ArgumentException($"--domain {domain}: unknown prompt domain; one of {string.Join(", ", PromptTemplates.Domains)}");
        }

        switch (backendUsed ? BackendKind(r) : "none")
        {
            case "openai" when r.GetValue(Endpoint) is null || (r.GetValue(Model) is null && !checkpointSetsModel):
                throw new ArgumentException("--backend openai needs --endpoint URL and --model NAME");
            case "llama" when r.GetValue(Gguf) is null:
                throw new ArgumentException("--backend llama needs --gguf FILE");
            case "llama" when !File.Exists(r.GetValue(Gguf)):
                throw new FileNotFoundException($"--gguf {r.GetValue(Gguf)}: no such file; give a GGUF model file", r.GetValue(Gguf));
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
            TemplateVersion = r.GetValue(TemplateVersion) ?? Liber.Interests.Template.TemplateInterestWriter.Version,
            MaxInFlight = r.GetValue(InFlight),
            MaxCalls = r.GetValue(MaxCalls),
            MaxTokens = r.GetValue(MaxTokens),
            Sampling = new SamplingOptions { Temperature = r.GetValue(Temperature), MaxOutputTokens = r.GetValue(MaxOutput), Seed = r.GetValue(Seed), JsonResponseFormat = !r.GetValue(NoJson) },
            Resilience = new ResilienceOptions { RequestTimeout = TimeSpan.FromSeconds(r.GetValue(Timeout)), MaxRetries = r.GetValue(Retries) },
        };
        options = LlmBackend.Limit(kind, options);
        options.Validate();
        return options;
    }

    /// <summary>The backend a parse names: <c>--backend</c>, or openai when only <c>--endpoint</c> is given.</summary>
    public string BackendKind(ParseResult r) =>
        r.GetResult(Backend) is null or { Implicit: true } && r.GetValue(Endpoint) is not null ? "openai" : r.GetValue(Backend) ?? "template";

    /// <summary>Creates the backend a parse names.</summary>
    public LlmBackend CreateBackend(ParseResult r) => CreateBackend(r, BackendKind(r), r.GetValue(Model));

    /// <summary>Creates a backend of <paramref name="kind"/> and <paramref name="model"/> (a checkpoint's), with the parse's endpoint, key and llama settings.</summary>
    public LlmBackend CreateBackend(ParseResult r, string kind, string? model) =>
        LlmBackend.Create(kind, r.GetValue(Endpoint), model, r.GetValue(KeyFile), r.GetValue(Gguf), r.GetValue(LlamaThreads), TimeSpan.FromSeconds(r.GetValue(Timeout)));
}
