using Liber.Knowledge.Chunking;
using Microsoft.Extensions.AI;
using SentenceTransformers;

namespace Liber.Knowledge.Encoders;

/// <summary>
/// A local SentenceTransformers ONNX model (MiniLM, ArcticXs) as an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>:
/// one <see cref="ISentenceEncoder.Encode"/> call for all values given, prepared by <see cref="WordPieceTokenizer.Prepare"/>
/// (whitespace normalised, over-long words cut so that the package's tokenizer does not drop them).
/// </summary>
/// <remarks>
/// Raw: values longer than the model's 512-token limit would be cut by the package's tokenizer. Use it through
/// <see cref="KnowledgeEncoders.Create(EncoderOptions)"/>, whose pipeline chunks long texts and splits batches before they get here.
/// </remarks>
internal sealed class SentenceEncoderGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly ISentenceEncoder encoder;
    private readonly IDisposable owner;
    private readonly EmbeddingGeneratorMetadata metadata;
    private readonly int dimension;

    public SentenceEncoderGenerator(ISentenceEncoder encoder, IDisposable owner, string provider, string model, int dimension)
    {
        this.encoder = encoder;
        this.owner = owner;
        this.dimension = dimension;
        metadata = new EmbeddingGeneratorMetadata(provider, providerUri: null, defaultModelId: model, defaultModelDimensions: dimension);
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] inputs = [.. values.Select(WordPieceTokenizer.Prepare)];
        if (inputs.Length == 0)
        {
            return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>());
        }

        // CPU-bound ONNX inference: run it off the caller's thread so async callers stay responsive.
        return Task.Run(
            () =>
            {
                float[][] vectors = encoder.Encode(inputs, cancellationToken);
                var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Length);
                foreach (float[] v in vectors)
                {
                    if (v.Length != dimension)
                    {
                        throw new EncoderException($"{metadata.DefaultModelId}: the model returned a {v.Length}-d vector, expected {dimension}");
                    }

                    result.Add(new Embedding<float>(v) { ModelId = metadata.DefaultModelId });
                }

                return result;
            },
            cancellationToken);
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? metadata
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(encoder) ? encoder
            : null;
    }

    public void Dispose() => owner.Dispose();
}
