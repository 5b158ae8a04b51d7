using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Embeddings;

namespace Liber.Knowledge.Encoders;

/// <summary>Builds the <c>openai</c> generator: the OpenAI client through Microsoft.Extensions.AI.OpenAI, with errors made actionable.</summary>
internal static class OpenAIEncoder
{
    // The OpenAI client refuses an empty credential; keyless local servers simply ignore this bearer token.
    private const string NoKey = "no-key";

    public static IEmbeddingGenerator<string, Embedding<float>> Create(OpenAIEncoderOptions options)
    {
        var endpoint = options.Endpoint.AbsoluteUri.EndsWith('/') ? options.Endpoint : new Uri(options.Endpoint.AbsoluteUri + "/");
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = endpoint,
            NetworkTimeout = options.Timeout,
            RetryPolicy = new ClientRetryPolicy(options.MaxRetries),
        };
        var client = new EmbeddingClient(options.Model, new ApiKeyCredential(options.ResolveApiKey() ?? NoKey), clientOptions);
        return new CheckedGenerator(client.AsIEmbeddingGenerator(options.Dimensions), options, endpoint);
    }

    /// <summary>Turns transport and parsing failures into <see cref="EncoderException"/>s that name the endpoint, and checks counts and shapes.</summary>
    private sealed class CheckedGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, OpenAIEncoderOptions options, Uri endpoint)
        : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        private string Where => $"openai encoder (model {options.Model}, POST {endpoint}embeddings)";

        public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, Microsoft.Extensions.AI.EmbeddingGenerationOptions? generationOptions = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(values);
            string[] inputs = [.. values];
            if (inputs.Length == 0)
            {
                return [];
            }

            GeneratedEmbeddings<Embedding<float>> result;
            try
            {
                result = await base.GenerateAsync(inputs, generationOptions, cancellationToken).ConfigureAwait(false);
            }
            catch (ClientResultException e) when (e.Status != 0)
            {
                string body = Excerpt(e.GetRawResponse()?.Content?.ToString());
                throw new EncoderException($"{Where} failed with HTTP {e.Status}{(e.Status is 401 or 403 ? " (check LIBER_LLM_API_KEY or OPENAI_API_KEY)" : e.Status == 404 ? " (check --endpoint, which should end in /v1, and --model)" : string.Empty)}: {body}", e);
            }
            catch (ClientResultException e)
            {
                throw new EncoderException($"{Where} could not be reached: {e.Message}", e);
            }
            catch (HttpRequestException e)
            {
                throw new EncoderException($"{Where} could not be reached: {e.Message}", e);
            }
            catch (Exception e) when (e is not OperationCanceledException and not EncoderException)
            {
                throw new EncoderException($"{Where} returned a malformed response ({e.GetType().Name}: {e.Message})", e);
            }

            if (result.Count != inputs.Length)
            {
                throw new EncoderException($"{Where} returned {result.Count} embeddings for {inputs.Length} inputs");
            }

            int dim = options.Dimensions ?? result[0].Vector.Length;
            for (int i = 0; i < result.Count; i++)
            {
                var v = result[i].Vector.Span;
                if (v.Length != dim || v.Length == 0)
                {
                    throw new EncoderException($"{Where} returned a {v.Length}-d vector for input {i}, expected {dim}");
                }

                foreach (float x in v)
                {
                    if (!float.IsFinite(x))
                    {
                        throw new EncoderException($"{Where} returned a non-finite value in the vector of input {i}");
                    }
                }
            }

            return result;
        }

        private static string Excerpt(string? body)
        {
            body = string.IsNullOrWhiteSpace(body) ? "(empty body)" : body.ReplaceLineEndings(" ").Trim();
            return body.Length <= 300 ? body : body[..300] + "...";
        }
    }
}
