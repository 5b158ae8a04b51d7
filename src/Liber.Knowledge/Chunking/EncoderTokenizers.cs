using BERTTokenizers.Base;
using Microsoft.ML.Tokenizers;

namespace Liber.Knowledge.Chunking;

/// <summary>Counts tokens the way an encoder sees a text, so that texts longer than its window can be chunked.</summary>
public interface IEncoderTokenizer
{
    /// <summary>Tokens the encoder reserves around every input (<c>[CLS]</c> and <c>[SEP]</c> for BERT: 2).</summary>
    int SpecialTokens { get; }

    /// <summary>Tokens of <paramref name="text"/> as the encoder sees it, <see cref="SpecialTokens"/> included.</summary>
    int CountTokens(string text);
}

/// <summary>
/// The WordPiece tokenizer shipped inside a SentenceTransformers package: the exact tokenizer its encoder uses
/// (so chunk sizes are exact, not estimated).
/// </summary>
public sealed class WordPieceTokenizer : IEncoderTokenizer
{
    private readonly TokenizerBase tokenizer;

    /// <summary>Wraps a SentenceTransformers tokenizer (e.g. <c>new MiniLMTokenizer()</c>).</summary>
    public WordPieceTokenizer(TokenizerBase tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        this.tokenizer = tokenizer;
    }

    /// <inheritdoc/>
    public int SpecialTokens => 2;

    /// <inheritdoc/>
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return tokenizer.Tokenize(int.MaxValue, Prepare(text))[0].Length;
    }

    /// <summary>The text as the local encoder feeds it to this tokenizer (see <see cref="TextChunker.PrepareForWordPiece"/>).</summary>
    public static string Prepare(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TextChunker.PrepareForWordPiece(text, TokenizerBase.MaxWordLength);
    }
}

/// <summary>
/// cl100k_base token counts (Microsoft.ML.Tokenizers): exact for OpenAI's embedding models
/// (text-embedding-3-*, ada-002); an approximation for other OpenAI-compatible servers, whose window should then be set
/// with a margin.
/// </summary>
public sealed class Cl100kEncoderTokenizer : IEncoderTokenizer
{
    private static readonly Lazy<TiktokenTokenizer> Shared = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    /// <inheritdoc/>
    public int SpecialTokens => 0;

    /// <inheritdoc/>
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Shared.Value.CountTokens(text);
    }
}
