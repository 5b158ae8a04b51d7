using System.Text;

namespace Liber.Knowledge.Chunking;

/// <summary>
/// Splits a text longer than an encoder's window into chunks that each fit, at word boundaries, so that nothing is cut.
/// </summary>
/// <remarks>
/// Rule (version <see cref="Version"/>): a text of at most <c>window</c> tokens (special tokens included) is one chunk.
/// A longer one is split at whitespace into <c>n = ceil(content / (window - special))</c> chunks of about equal token
/// count (so no tiny tail chunk weighs as much as a full one in the mean), filled greedily in order; chunks are joined
/// with single spaces. A single word longer than a chunk is cut into pieces of <c>(window - special) / 4</c>
/// characters (a character is at most one WordPiece token and at most four byte-level BPE tokens). Every chunk is
/// checked with the tokenizer and halved again if it still does not fit, so the window is never exceeded.
/// </remarks>
public static class TextChunker
{
    /// <summary>Version of the chunking rule; part of every encoder's cache key.</summary>
    public const string Version = "chunk1";

    /// <summary>Collapses every run of whitespace to one space and trims the ends.</summary>
    /// <remarks>
    /// The SentenceTransformers tokenizers split words on spaces and <c>\r\n</c> only: a bare <c>\n</c> or a tab would
    /// glue two words into one unknown token. Local encoders therefore see whitespace-normalised text.
    /// </remarks>
    public static string NormalizeWhitespace(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        bool clean = text.Length == 0 || (!char.IsWhiteSpace(text[0]) && !char.IsWhiteSpace(text[^1]));
        for (int i = 0; clean && i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c) && (c != ' ' || (i + 1 < text.Length && char.IsWhiteSpace(text[i + 1]))))
            {
                clean = false;
            }
        }

        if (clean)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    /// <summary>
    /// Whitespace-normalised text whose words are cut into pieces of at most <paramref name="maxWordLength"/> characters.
    /// </summary>
    /// <remarks>
    /// The SentenceTransformers WordPiece tokenizer silently drops any word longer than its
    /// <c>TokenizerBase.MaxWordLength</c> (50): cutting such words (URLs, hashes, run-together titles) into pieces keeps
    /// their content in the encoding.
    /// </remarks>
    public static string PrepareForWordPiece(string text, int maxWordLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWordLength, 1);
        string normal = NormalizeWhitespace(text);
        string[] words = normal.Split(' ');
        if (words.All(w => w.Length <= maxWordLength))
        {
            return normal;
        }

        var sb = new StringBuilder(normal.Length + (normal.Length / maxWordLength) + 1);
        foreach (string word in words)
        {
            for (int start = 0; start < word.Length; start += maxWordLength)
            {
                if (sb.Length > 0)
                {
                    sb.Append(' ');
                }

                sb.Append(word, start, Math.Min(maxWordLength, word.Length - start));
            }
        }

        return sb.ToString();
    }

    /// <summary>The chunks of <paramref name="text"/> for an encoder whose window is <paramref name="windowTokens"/> tokens.</summary>
    /// <returns>One element (the text itself) when it fits.</returns>
    public static IReadOnlyList<string> Split(string text, IEncoderTokenizer tokenizer, int windowTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tokenizer);
        int capacity = windowTokens - tokenizer.SpecialTokens;
        if (capacity < 4)
        {
            throw new ArgumentOutOfRangeException(nameof(windowTokens), windowTokens, $"the window must leave at least 4 tokens besides the {tokenizer.SpecialTokens} special ones");
        }

        if (tokenizer.CountTokens(text) <= windowTokens)
        {
            return [text];
        }

        // Words with their token counts; a leading space is counted because byte-level BPE merges it into the word.
        var words = new List<(string Word, int Tokens)>();
        int pieceChars = Math.Max(1, capacity / 4);
        foreach (string word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            int tokens = Count(tokenizer, word);
            if (tokens <= capacity)
            {
                words.Add((word, tokens));
                continue;
            }

            for (int start = 0; start < word.Length; start += pieceChars)
            {
                string piece = word.Substring(start, Math.Min(pieceChars, word.Length - start));
                words.Add((piece, Count(tokenizer, piece)));
            }
        }

        long total = words.Sum(w => (long)w.Tokens);
        int n = (int)Math.Max(1, (total + capacity - 1) / capacity);
        long target = Math.Min(capacity, (total + n - 1) / n);
        var chunks = new List<string>(n + 1);
        var current = new List<string>();
        long size = 0;
        foreach (var (word, tokens) in words)
        {
            if (current.Count > 0 && size + tokens > target)
            {
                AddChecked(chunks, current, tokenizer, windowTokens);
                current = [];
                size = 0;
            }

            current.Add(word);
            size += tokens;
        }

        if (current.Count > 0)
        {
            AddChecked(chunks, current, tokenizer, windowTokens);
        }

        return chunks;
    }

    private static int Count(IEncoderTokenizer tokenizer, string word) =>
        Math.Max(1, tokenizer.CountTokens(" " + word) - tokenizer.SpecialTokens);

    // Token counts of words need not add up exactly (merges across a space): verify, and halve what does not fit.
    private static void AddChecked(List<string> chunks, List<string> words, IEncoderTokenizer tokenizer, int windowTokens)
    {
        string chunk = string.Join(' ', words);
        if (words.Count == 1 || tokenizer.CountTokens(chunk) <= windowTokens)
        {
            chunks.Add(chunk);
            return;
        }

        int half = words.Count / 2;
        AddChecked(chunks, words.GetRange(0, half), tokenizer, windowTokens);
        AddChecked(chunks, words.GetRange(half, words.Count - half), tokenizer, windowTokens);
    }
}
