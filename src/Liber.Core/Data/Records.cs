namespace Liber.Core.Data;

/// <summary>An item of the catalog with its text metadata. <see cref="Id"/> is the dense internal id.</summary>
public sealed record Item(
    int Id,
    string ExternalId,
    string Title,
    int? Year,
    IReadOnlyList<string> Categories,
    IReadOnlyList<string> Tags,
    string? Text)
{
    /// <summary>An item known only from events (no metadata row).</summary>
    public static Item Bare(int id, string externalId) => new(id, externalId, externalId, null, [], [], null);
}

/// <summary>A user's optional profile. Absent fields are null; <see cref="Extra"/> holds data-set specific fields.</summary>
public sealed record UserProfile(
    int Id,
    string ExternalId,
    int? Age,
    string? AgeGroup,
    string? Gender,
    string? Occupation,
    string? ZipCode,
    IReadOnlyDictionary<string, string> Extra)
{
    /// <summary>A profile with no fields.</summary>
    public static UserProfile Empty(int id, string externalId) =>
        new(id, externalId, null, null, null, null, null, new Dictionary<string, string>());
}

/// <summary>One behaviour event as read, in source order (<see cref="Position"/> is 0-based over all event files).</summary>
public readonly record struct BehaviorEvent(int User, int Item, long Timestamp, float Rating, long Position);
