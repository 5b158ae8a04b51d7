using System.Runtime.CompilerServices;
using System.Text;
using LLama;
using LLama.Abstractions;
using LLama.Common;
using LLama.Exceptions;
using LLama.Native;
using LLama.Transformers;
using Microsoft.Extensions.AI;

namespace Liber.Interests.Backends;

/// <summary>Settings of the local <c>llama</c> backend.</summary>
public sealed record LlamaSettings
{
    /// <summary>Path of the GGUF model file.</summary>
    public required string ModelPath { get; init; }

    /// <summary>CPU threads (1 by default: 2 stall on the project's 2-core machines).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Context size in tokens (0: the model's own).</summary>
    public uint ContextSize { get; init; } = 4096;
}

/// <summary>
/// The <c>llama</c> backend: a GGUF model through LLamaSharp (CPU) as an <see cref="IChatClient"/>. It owns
/// the weights and disposes them; prompts use the model's own chat template when it has one, else the
/// messages' text is concatenated (plain completion). Calls are serialised: one inference at a time.
/// </summary>
public sealed class LlamaChatClient : IChatClient
{
    private readonly LLamaWeights _weights;
    private readonly IChatClient _inner;
    private readonly SemaphoreSlim _one = new(1, 1);

    private LlamaChatClient(LLamaWeights weights, IChatClient inner, string model, bool chatTemplate)
    {
        _weights = weights;
        _inner = inner;
        ModelName = model;
        HasChatTemplate = chatTemplate;
    }

    /// <summary>The model file name.</summary>
    public string ModelName { get; }

    /// <summary>Whether the model carries a chat template (otherwise prompts are plain completions).</summary>
    public bool HasChatTemplate { get; }

    /// <summary>
    /// Where llama.cpp's errors go (its debug and info chatter is dropped so that progress and results stay
    /// readable). Default: standard error. Set before the first <see cref="Load"/>.
    /// </summary>
    public static Action<string> NativeErrors { get; set; } = message => Console.Error.Write(message);

    /// <summary>Loads a GGUF model.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The file is not a loadable GGUF model.</exception>
    public static LlamaChatClient Load(LlamaSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!File.Exists(settings.ModelPath))
        {
            throw new FileNotFoundException($"GGUF model '{settings.ModelPath}' not found", settings.ModelPath);
        }

        using (var f = File.OpenRead(settings.ModelPath))
        {
            Span<byte> magic = stackalloc byte[4];
            if (f.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4 || !magic.SequenceEqual("GGUF"u8))
            {
                throw new ArgumentException($"'{settings.ModelPath}' is not a GGUF model file (it does not start with the GGUF magic bytes)");
            }
        }

        NativeLogConfig.llama_log_set((level, message) =>
        {
            if (level == LLamaLogLevel.Error)
            {
                NativeErrors(message);
            }
        });
        var parameters = new ModelParams(settings.ModelPath)
        {
            ContextSize = settings.ContextSize == 0 ? null : settings.ContextSize,
            Threads = settings.Threads,
            BatchThreads = settings.Threads,
            GpuLayerCount = 0,
        };
        LLamaWeights weights;
        try
        {
            weights = LLamaWeights.LoadFromFile(parameters);
        }
        catch (LoadWeightsFailedException e)
        {
            throw new ArgumentException($"GGUF model '{settings.ModelPath}' could not be loaded (corrupt or unsupported): {e.Message}", e);
        }

        bool template = weights.Metadata.ContainsKey("tokenizer.chat_template");
        IHistoryTransform history = template ? new PromptTemplateTransformer(weights, withAssistant: true) : new PlainHistoryTransform();
        var executor = new StatelessExecutor(weights, parameters);
        return new LlamaChatClient(weights, executor.AsChatClient(history), Path.GetFileName(settings.ModelPath), template);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ChatResponse response = await _inner.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
            response.ModelId ??= ModelName;
            return response;
        }
        finally
        {
            _one.Release();
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await foreach (ChatResponseUpdate u in _inner.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
            {
                yield return u;
            }
        }
        finally
        {
            _one.Release();
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("llama", null, ModelName) : _inner.GetService(serviceType, serviceKey);

    /// <inheritdoc />
    public void Dispose()
    {
        _inner.Dispose();
        _weights.Dispose();
        _one.Dispose();
    }

    /// <summary>For models without a chat template: the messages' text, concatenated, is the completion prompt.</summary>
    private sealed class PlainHistoryTransform : IHistoryTransform
    {
        public string HistoryToText(ChatHistory history)
        {
            var sb = new StringBuilder();
            foreach (var m in history.Messages)
            {
                if (sb.Length > 0)
                {
                    sb.Append("\n\n");
                }

                sb.Append(m.Content);
            }

            return sb.ToString();
        }

        public ChatHistory TextToHistory(AuthorRole role, string text) => new([new ChatHistory.Message(role, text)]);

        public IHistoryTransform Clone() => new PlainHistoryTransform();
    }
}
