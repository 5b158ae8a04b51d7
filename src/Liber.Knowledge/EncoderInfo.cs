using System.Globalization;

namespace Liber.Knowledge;

/// <summary>
/// What identifies an encoder's output space: two encoders with the same <see cref="Id"/> must give the same vector
/// for the same text, so <see cref="Id"/> keys the embedding cache.
/// </summary>
/// <param name="Name">Catalog name (<c>minilm</c>, <c>arctic-xs</c>, <c>openai</c>).</param>
/// <param name="Model">Model name; for remote encoders also the endpoint, since two servers may serve different weights under one name.</param>
/// <param name="Dimension">Length of every vector.</param>
/// <param name="Version">Package version and preprocessing rules (window, chunking, whitespace); bump it whenever vectors could change.</param>
/// <param name="WindowTokens">Longest input, in the encoder's tokens (special tokens included), that is encoded whole; longer texts are chunked.</param>
public sealed record EncoderInfo(string Name, string Model, int Dimension, string Version, int WindowTokens)
{
    /// <summary>The cache key: <c>name|model|dimension|version</c>.</summary>
    public string Id => string.Create(CultureInfo.InvariantCulture, $"{Name}|{Model}|{Dimension}|{Version}");
}

/// <summary>An encoder failed (remote error, malformed response, wrong vector shape); the message names the encoder and what to check.</summary>
public sealed class EncoderException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public EncoderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public EncoderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception with no message (for serializers).</summary>
    public EncoderException()
    {
    }
}
