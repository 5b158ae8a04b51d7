using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Interests;
using Liber.Interests.Learning;
using Liber.Knowledge;

namespace Liber.Pipeline;

/// <summary>What becomes of a partition whose interest texts did not come out (failed, skipped by the budget).</summary>
public enum MissingTextPolicy
{
    /// <summary>Offline training: encode its summary as an empty text, i.e. a zero vector (never a made-up one), and go on.</summary>
    ZeroVector,

    /// <summary>Online: report it as failed and encode none of the user's later partitions (their prompts need its summary); the caller retries.</summary>
    StopUser,
}

/// <summary>A partition's texts and vectors, or why it has none.</summary>
/// <param name="User">Dense user id within the partition set.</param>
/// <param name="Number">Partition number within the user.</param>
/// <param name="Summary">The interest summary, or null when it did not come out.</param>
/// <param name="Shift">The interest shift (null for a user's first partition, and without shifts).</param>
/// <param name="SummaryVector">The summary's vector (zeros for a missing text under <see cref="MissingTextPolicy.ZeroVector"/>), or null when not encoded.</param>
/// <param name="ShiftVector">The shift's vector (zeros when there is no shift), or null when not encoded.</param>
/// <param name="Error">Why the texts did not come out, or null.</param>
public sealed record PartitionKnowledge(int User, int Number, string? Summary, string? Shift, float[]? SummaryVector, float[]? ShiftVector, string? Error);

/// <summary>The outcome of one <see cref="KnowledgeStep"/> run.</summary>
/// <param name="Learned">The UIL result (texts of every partition of the set, report).</param>
/// <param name="Encoding">The encoder's accounting, or null when nothing was encoded.</param>
/// <param name="Dimension">The vectors' dimension (0 when nothing was encoded).</param>
/// <param name="Partitions">The wanted partitions, in the order asked, with texts and vectors or an error.</param>
public sealed record KnowledgeResult(LearnResult Learned, EncodeAccounting? Encoding, int Dimension, IReadOnlyList<PartitionKnowledge> Partitions);

/// <summary>
/// The one learn-and-encode step of the LIBER chain, shared by the offline vector source (<see cref="LiberVectorSource"/>) and
/// the service's nearline worker: UIL over the partition set (the cascade per user, with the response cache, retries and
/// budget of the learn options), then one encoder call over the wanted partitions' summaries followed by their shifts
/// (deduplicated and cached by the encoder; an empty text, such as a user's first shift, is a zero vector). The two callers
/// differ on one point only, stated by <see cref="MissingTextPolicy"/>.
/// </summary>
/// <param name="backend">The UIL backend.</param>
/// <param name="learn">UIL options.</param>
/// <param name="cache">UIL response cache, or null.</param>
/// <param name="encoder">The knowledge encoder (its options must map empty texts to zero vectors).</param>
public sealed class KnowledgeStep(InterestBackend backend, LearnOptions learn, ResponseCache? cache, KnowledgeEncoder encoder)
{
    /// <summary>
    /// Learns the texts of every partition of <paramref name="set"/> over <paramref name="streams"/>, then encodes those of
    /// <paramref name="wanted"/> (in that order; each user's wanted partitions in increasing number).
    /// </summary>
    /// <param name="streams">The users' streams.</param>
    /// <param name="set">The partitions to learn (each user's earlier partitions too: the cascade needs their summaries).</param>
    /// <param name="wanted">The (user, number) pairs to encode.</param>
    /// <param name="missing">What a missing text becomes.</param>
    /// <param name="withShifts">False to encode no shift (a per-user summary has none).</param>
    /// <param name="learnProgress">UIL progress, or null.</param>
    /// <param name="encodeProgress">Encoder progress, or null.</param>
    /// <param name="cancellationToken">Stops the step.</param>
    public async Task<KnowledgeResult> RunAsync(UserStreams streams, PartitionSet set, IReadOnlyList<(int User, int Number)> wanted, MissingTextPolicy missing, bool withShifts = true,
        IProgress<LearnProgress>? learnProgress = null, IProgress<EncodeProgress>? encodeProgress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(wanted);
        var learner = new InterestLearner(streams, backend, learn, cache);
        LearnResult learned = await learner.RunAsync(set, learnProgress, cancellationToken).ConfigureAwait(false);

        var result = new List<PartitionKnowledge>(wanted.Count);
        var encode = new List<int>(wanted.Count); // indices into result of the partitions to encode
        var stopped = new HashSet<int>();
        foreach ((int user, int number) in wanted)
        {
            if (stopped.Contains(user))
            {
                continue;
            }

            InterestRecord r = learned.Texts[user, number];
            bool done = r.Status == InterestStatus.Done && r.Summary is not null;
            string? error = done ? null : r.Reason ?? r.Status.ToString();
            if (!done && missing == MissingTextPolicy.StopUser)
            {
                result.Add(new PartitionKnowledge(user, number, null, null, null, null, error));
                stopped.Add(user);
                continue;
            }

            encode.Add(result.Count);
            result.Add(new PartitionKnowledge(user, number, done ? r.Summary : null, withShifts ? r.Shift : null, null, null, error));
        }

        if (encode.Count == 0)
        {
            return new KnowledgeResult(learned, null, 0, result);
        }

        // Summaries then shifts in one call; a missing text or shift is empty, hence a zero vector.
        int n = encode.Count;
        var texts = new string[n * 2];
        for (int i = 0; i < n; i++)
        {
            PartitionKnowledge k = result[encode[i]];
            texts[i] = k.Summary ?? "";
            texts[n + i] = k.Shift ?? "";
        }

        EncodeResult encoded = await encoder.EncodeAsync(texts, encodeProgress, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < n; i++)
        {
            result[encode[i]] = result[encode[i]] with { SummaryVector = encoded.Vectors.Row(i).ToArray(), ShiftVector = encoded.Vectors.Row(n + i).ToArray() };
        }

        return new KnowledgeResult(learned, encoded.Accounting, encoded.Vectors.Dimension, result);
    }
}
