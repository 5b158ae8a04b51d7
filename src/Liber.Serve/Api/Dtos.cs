namespace Liber.Serve.Api;

// The request records below are the one schema of the bodies: OpenAPI describes them (OpenApiDocs), the endpoints read bodies
// into them (RequestJson.ReadAsync<T>: strict System.Text.Json, every JSON type error named by its field path) and then check
// their values with their own Validate methods (DtoValidation.cs).

#pragma warning disable CA1819 // DTOs: arrays are the JSON shape

/// <summary>One event of a <c>POST /v1/events</c> body (the OpenAPI schema's rules are written by <see cref="OpenApiDocs"/>).</summary>
/// <param name="EventId">Idempotency key across the store (a JSON integer).</param>
/// <param name="User">External user id (1..128 Unicode characters).</param>
/// <param name="Item">External item id (1..128 Unicode characters).</param>
/// <param name="Timestamp">Unix seconds in [1970, 2100) (a JSON integer).</param>
/// <param name="Rating">Rating on the service's scale (exactly one of rating and feedback).</param>
/// <param name="Feedback">Implicit feedback 0 or 1, stored as rating 0/1 (exactly one of rating and feedback).</param>
public sealed partial record EventDto(long EventId, string User, string Item, long Timestamp, double? Rating = null, int? Feedback = null);

/// <summary>The <c>POST /v1/events</c> body.</summary>
/// <param name="Events">The events, at most the configured batch limit.</param>
public sealed partial record EventsRequest(EventDto[] Events);

/// <summary>An event the store did not apply (a late event, or an event id already applied with other content).</summary>
/// <param name="Index">Position in the batch.</param>
/// <param name="EventId">Its id.</param>
/// <param name="Reason">Why.</param>
public sealed record RejectedDto(int Index, long EventId, string Reason);

/// <summary>A partition a batch closed.</summary>
/// <param name="User">External user id.</param>
/// <param name="Number">Partition number within the user.</param>
/// <param name="FirstEvent">Index of its first event in the user's stream.</param>
/// <param name="LastEvent">Index of its last event.</param>
/// <param name="Events">Events in it.</param>
/// <param name="StartTime">Unix seconds of its first event.</param>
/// <param name="EndTime">Unix seconds of its last event.</param>
public sealed record ClosedPartitionDto(string User, int Number, int FirstEvent, int LastEvent, int Events, long StartTime, long EndTime);

/// <summary>The <c>POST /v1/events</c> answer.</summary>
/// <param name="Applied">Events applied.</param>
/// <param name="Duplicates">Events already applied (same id, same content): no-ops.</param>
/// <param name="Conflicts">Events whose id was already applied with other content (user, item, timestamp or rating): not applied, the first kept.</param>
/// <param name="Rejected">Events rejected by the store (late events), with reasons.</param>
/// <param name="ClosedPartitions">Partitions the batch closed.</param>
public sealed record EventsResponse(int Applied, int Duplicates, RejectedDto[] Conflicts, RejectedDto[] Rejected, ClosedPartitionDto[] ClosedPartitions);

/// <summary>One item of a <c>POST /v1/items</c> body.</summary>
/// <param name="Id">External item id (1..128 Unicode characters).</param>
/// <param name="Title">Title.</param>
/// <param name="Year">Year.</param>
/// <param name="Categories">Categories.</param>
/// <param name="Tags">Tags.</param>
/// <param name="Text">Free text.</param>
public sealed partial record ItemDto(string Id, string? Title = null, int? Year = null, string[]? Categories = null, string[]? Tags = null, string? Text = null);

/// <summary>The <c>POST /v1/items</c> body.</summary>
/// <param name="Items">The items.</param>
public sealed partial record ItemsRequest(ItemDto[] Items);

/// <summary>The <c>POST /v1/items</c> answer.</summary>
/// <param name="Upserted">Items received and stored.</param>
/// <param name="Changed">Items that were new or changed.</param>
public sealed record ItemsResponse(int Upserted, int Changed);

/// <summary>A partition with its interest texts.</summary>
/// <param name="Number">Partition number.</param>
/// <param name="FirstEvent">Index of its first event.</param>
/// <param name="LastEvent">Index of its last event.</param>
/// <param name="Events">Events in it.</param>
/// <param name="StartTime">Unix seconds of its first event.</param>
/// <param name="EndTime">Unix seconds of its last event.</param>
/// <param name="Status">pending, done or failed.</param>
/// <param name="Summary">Interest summary once done.</param>
/// <param name="Shift">Interest shift once done (null for the first partition).</param>
/// <param name="Error">Last error, or null.</param>
/// <param name="Attempts">Failed attempts so far.</param>
/// <param name="Categories">The partition's categories by share of its events (an event with k categories gives each 1/k), largest first: the six largest, then "other".</param>
public sealed record PartitionInterestDto(int Number, int FirstEvent, int LastEvent, int Events, long StartTime, long EndTime, string Status, string? Summary, string? Shift, string? Error, int Attempts, CategoryShareDto[] Categories);

/// <summary>A category's share of a partition's events.</summary>
/// <param name="Name">Category name ("other" for the rest).</param>
/// <param name="Share">Share of the events, 0-1.</param>
public sealed record CategoryShareDto(string Name, double Share);

/// <summary>The <c>GET /v1/users/{id}/interests</c> answer.</summary>
/// <param name="User">External user id.</param>
/// <param name="CacheEvents">Events in the short-term cache.</param>
/// <param name="Events">Events applied for the user.</param>
/// <param name="Partitions">Closed partitions, oldest first.</param>
public sealed record InterestsResponse(string User, int CacheEvents, int Events, PartitionInterestDto[] Partitions);

/// <summary>The <c>POST /v1/rank</c> body.</summary>
/// <param name="User">External user id.</param>
/// <param name="Candidates">Candidate external item ids (1..1,000).</param>
public sealed partial record RankRequest(string User, string[] Candidates);

/// <summary>One candidate's score.</summary>
/// <param name="Item">External item id.</param>
/// <param name="Score">CTR probability.</param>
public sealed record ScoreDto(string Item, float Score);

/// <summary>The <c>POST /v1/rank</c> answer.</summary>
/// <param name="User">External user id.</param>
/// <param name="Model">Model name.</param>
/// <param name="Scores">Scores in candidate order.</param>
/// <param name="HistoryEvents">History events the model read.</param>
/// <param name="PartitionsUsed">Partition vectors the model read.</param>
/// <param name="PartitionsPending">Closed partitions left out because their texts are pending or failed.</param>
public sealed record RankResponse(string User, string Model, ScoreDto[] Scores, int HistoryEvents, int PartitionsUsed, int[] PartitionsPending);

/// <summary>A catalog item found by <c>GET /v1/items</c>.</summary>
/// <param name="Id">External item id.</param>
/// <param name="Title">Title.</param>
/// <param name="Year">Year, if known.</param>
/// <param name="Categories">Categories.</param>
public sealed record ItemSummaryDto(string Id, string Title, int? Year, string[] Categories);

/// <summary>The <c>GET /v1/items?query=...&amp;limit=...</c> answer.</summary>
/// <param name="Items">Matching items (title, id or category contains the query, case-insensitively), catalog order, at most the limit.</param>
/// <param name="Total">All matching items.</param>
public sealed record ItemsSearchResponse(ItemSummaryDto[] Items, int Total);

/// <summary>The <c>POST /v1/explain</c> body.</summary>
/// <param name="User">External user id.</param>
/// <param name="Item">The candidate to explain.</param>
public sealed partial record ExplainRequest(string User, string Item);

/// <summary>UIF's weight of one partition.</summary>
/// <param name="Partition">Partition number.</param>
/// <param name="Weight">Attention weight (the weights of the partitions the model read sum to 1).</param>
public sealed record PartitionWeightDto(int Partition, float Weight);

/// <summary>The <c>POST /v1/explain</c> answer: the candidate's score and UIF's attention over the user's partitions.</summary>
/// <param name="User">External user id.</param>
/// <param name="Item">The candidate.</param>
/// <param name="Model">Model name.</param>
/// <param name="Score">CTR probability.</param>
/// <param name="Attention">Weights of the partitions the model read, oldest first (empty without LIBER fusion or without done partitions).</param>
/// <param name="PartitionsPending">Closed partitions left out because their texts are pending or failed.</param>
public sealed record ExplainResponse(string User, string Item, string Model, float Score, PartitionWeightDto[] Attention, int[] PartitionsPending);

/// <summary>The <c>GET /healthz</c> answer.</summary>
/// <param name="Status">ok.</param>
/// <param name="Users">Users with state.</param>
/// <param name="PendingJobs">Interest jobs pending.</param>
/// <param name="Model">Rank model, or null without a checkpoint.</param>
public sealed record HealthResponse(string Status, int Users, long PendingJobs, string? Model);
