using Liber.Core.Partitioning;
using Liber.Core.Storage;

namespace Liber.Cluster;

// Orleans surrogates for the Liber.Core records that cross grain calls and live in grain state: the core types stay
// free of Orleans attributes, and the wire format (and stored state) is defined here, field by field.

/// <summary>Wire form of <see cref="PartitionEvent"/>.</summary>
[GenerateSerializer]
[Alias("liber.PartitionEvent")]
internal struct PartitionEventSurrogate
{
    [Id(0)] public long EventId;
    [Id(1)] public int Item;
    [Id(2)] public long Timestamp;
    [Id(3)] public float Rating;
}

/// <summary>Converts <see cref="PartitionEvent"/> to and from its wire form.</summary>
[RegisterConverter]
internal sealed class PartitionEventConverter : IConverter<PartitionEvent, PartitionEventSurrogate>
{
    public PartitionEvent ConvertFromSurrogate(in PartitionEventSurrogate surrogate) => new(surrogate.EventId, surrogate.Item, surrogate.Timestamp, surrogate.Rating);

    public PartitionEventSurrogate ConvertToSurrogate(in PartitionEvent value) => new() { EventId = value.EventId, Item = value.Item, Timestamp = value.Timestamp, Rating = value.Rating };
}

/// <summary>Wire form of <see cref="Partition"/>.</summary>
[GenerateSerializer]
[Alias("liber.Partition")]
internal struct PartitionSurrogate
{
    [Id(0)] public int User;
    [Id(1)] public int Number;
    [Id(2)] public int Start;
    [Id(3)] public int End;
    [Id(4)] public long StartTime;
    [Id(5)] public long EndTime;
    [Id(6)] public long[] EventIds;
    [Id(7)] public int PromptTokens;
    [Id(8)] public string ContentHash;
}

/// <summary>Converts <see cref="Partition"/> to and from its wire form.</summary>
[RegisterConverter]
internal sealed class PartitionConverter : IConverter<Partition, PartitionSurrogate>
{
    public Partition ConvertFromSurrogate(in PartitionSurrogate surrogate) =>
        new(surrogate.User, surrogate.Number, surrogate.Start, surrogate.End, surrogate.StartTime, surrogate.EndTime, surrogate.EventIds, surrogate.PromptTokens, surrogate.ContentHash);

    public PartitionSurrogate ConvertToSurrogate(in Partition value) => new()
    {
        User = value.User,
        Number = value.Number,
        Start = value.Start,
        End = value.End,
        StartTime = value.StartTime,
        EndTime = value.EndTime,
        EventIds = value.EventIds,
        PromptTokens = value.PromptTokens,
        ContentHash = value.ContentHash,
    };
}

/// <summary>Wire form of <see cref="RejectedEvent"/>.</summary>
[GenerateSerializer]
[Alias("liber.RejectedEvent")]
internal struct RejectedEventSurrogate
{
    [Id(0)] public int Index;
    [Id(1)] public long EventId;
    [Id(2)] public string Reason;
}

/// <summary>Converts <see cref="RejectedEvent"/> to and from its wire form.</summary>
[RegisterConverter]
internal sealed class RejectedEventConverter : IConverter<RejectedEvent, RejectedEventSurrogate>
{
    public RejectedEvent ConvertFromSurrogate(in RejectedEventSurrogate surrogate) => new(surrogate.Index, surrogate.EventId, surrogate.Reason);

    public RejectedEventSurrogate ConvertToSurrogate(in RejectedEvent value) => new() { Index = value.Index, EventId = value.EventId, Reason = value.Reason };
}

/// <summary>Wire form of <see cref="AppendResult"/>.</summary>
[GenerateSerializer]
[Alias("liber.AppendResult")]
internal struct AppendResultSurrogate
{
    [Id(0)] public int Applied;
    [Id(1)] public int[] AppliedIndices;
    [Id(2)] public int Duplicates;
    [Id(3)] public RejectedEvent[] Conflicts;
    [Id(4)] public RejectedEvent[] Rejected;
    [Id(5)] public Partition[] Closed;
}

/// <summary>Converts <see cref="AppendResult"/> to and from its wire form.</summary>
[RegisterConverter]
internal sealed class AppendResultConverter : IConverter<AppendResult, AppendResultSurrogate>
{
    public AppendResult ConvertFromSurrogate(in AppendResultSurrogate surrogate) => new()
    {
        Applied = surrogate.Applied,
        AppliedIndices = surrogate.AppliedIndices ?? [],
        Duplicates = surrogate.Duplicates,
        Conflicts = surrogate.Conflicts ?? [],
        Rejected = surrogate.Rejected ?? [],
        Closed = surrogate.Closed ?? [],
    };

    public AppendResultSurrogate ConvertToSurrogate(in AppendResult value) => new()
    {
        Applied = value.Applied,
        AppliedIndices = [.. value.AppliedIndices],
        Duplicates = value.Duplicates,
        Conflicts = [.. value.Conflicts],
        Rejected = [.. value.Rejected],
        Closed = [.. value.Closed],
    };
}
