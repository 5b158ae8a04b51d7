using Liber.Core.Partitioning;

namespace Liber.Interests;

/// <summary>Outcome of learning one partition.</summary>
public enum InterestStatus
{
    /// <summary>Summary (and shift, except for a user's first partition) learned and validated.</summary>
    Done,

    /// <summary>The backend failed or kept giving invalid answers; <see cref="InterestRecord.Reason"/> says why.</summary>
    Failed,

    /// <summary>Not attempted: the run budget ran out, the run was stopped, or an earlier partition of the user failed (the cascade needs it).</summary>
    Skipped,
}

/// <summary>The interest texts of one partition and how they were obtained.</summary>
/// <param name="User">Dense user id.</param>
/// <param name="Number">Partition number within the user.</param>
/// <param name="Summary">Interest summary (null unless <see cref="Status"/> is Done, or a failed two-call shift kept its summary).</param>
/// <param name="Shift">Interest shift against the previous partition (null for a user's first partition).</param>
/// <param name="Status">Done, failed or skipped.</param>
/// <param name="Reason">Why it failed or was skipped (null when done).</param>
/// <param name="Backend">Backend that wrote the texts: template, openai or llama.</param>
/// <param name="Model">Model name (the template writer's version for the template backend).</param>
/// <param name="TemplateVersion">Prompt template version (or template writer version).</param>
/// <param name="PromptTokens">Prompt tokens of the answers used (from cache or the server).</param>
/// <param name="CompletionTokens">Completion tokens of the answers used.</param>
/// <param name="LlmCalls">LLM calls made for this partition in this run (retries included; 0 when all came from the cache).</param>
public sealed record InterestRecord(
    int User,
    int Number,
    string? Summary,
    string? Shift,
    InterestStatus Status,
    string? Reason,
    string Backend,
    string Model,
    string TemplateVersion,
    long PromptTokens,
    long CompletionTokens,
    int LlmCalls);

/// <summary>
/// The UIL result, aligned with <see cref="PartitionSet.All"/>: one <see cref="InterestRecord"/> per closed
/// partition, looked up by (user, number). Downstream encoders and fusion read <see cref="Summary"/> and
/// <see cref="Shift"/>; texts of partitions that are not done are null.
/// </summary>
public sealed class InterestTexts
{
    private readonly InterestRecord[] _records;
    private readonly int[] _offsets;

    /// <summary>Wraps records that are aligned with <paramref name="partitions"/>.All.</summary>
    /// <exception cref="ArgumentException">A record does not match its partition.</exception>
    public InterestTexts(PartitionSet partitions, IReadOnlyList<InterestRecord> records)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count != partitions.Count)
        {
            throw new ArgumentException($"{records.Count} records for {partitions.Count} partitions", nameof(records));
        }

        _offsets = new int[partitions.UserCount + 1];
        for (int u = 0; u < partitions.UserCount; u++)
        {
            _offsets[u + 1] = _offsets[u] + partitions.Of(u).Length;
        }

        for (int i = 0; i < records.Count; i++)
        {
            Partition p = partitions.All[i];
            if (records[i].User != p.User || records[i].Number != p.Number)
            {
                throw new ArgumentException($"record {i} is for user {records[i].User} partition {records[i].Number}, expected user {p.User} partition {p.Number}", nameof(records));
            }
        }

        _records = [.. records];
        Partitions = partitions;
    }

    /// <summary>The partitions the texts belong to.</summary>
    public PartitionSet Partitions { get; }

    /// <summary>Every record, in the order of <see cref="PartitionSet.All"/> (by user, then number).</summary>
    public IReadOnlyList<InterestRecord> All => _records;

    /// <summary>Number of partitions done.</summary>
    public int DoneCount => _records.Count(r => r.Status == InterestStatus.Done);

    /// <summary>The record of partition <paramref name="number"/> of <paramref name="user"/>.</summary>
    public InterestRecord this[int user, int number]
    {
        get
        {
            int count = _offsets[user + 1] - _offsets[user];
            ArgumentOutOfRangeException.ThrowIfNegative(number);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(number, count);
            return _records[_offsets[user] + number];
        }
    }

    /// <summary>The summary of a partition, or null when it is not done.</summary>
    public string? Summary(int user, int number) => this[user, number] is { Status: InterestStatus.Done } r ? r.Summary : null;

    /// <summary>The shift of a partition, or null for a user's first partition or when it is not done.</summary>
    public string? Shift(int user, int number) => this[user, number] is { Status: InterestStatus.Done } r ? r.Shift : null;

    /// <summary>The records of one user, oldest partition first.</summary>
    public ReadOnlySpan<InterestRecord> Of(int user) => _records.AsSpan(_offsets[user], _offsets[user + 1] - _offsets[user]);
}
