using System.Text.Json;
using Liber.Core.Data;
using Liber.Core.Storage;

namespace Liber.Serve.Api;

// Each request DTO says two things about itself here: ShapeError, what a field of the wrong JSON type (or missing, or null
// where it may not be) is told, used by RequestJson when the strict deserializer refuses a body ("name[]" is an element of
// the array field "name", "$" the body itself); and Validate, the checks of the values once the body is the DTO, each error
// under its field path (events[3].timestamp), so that a bad body is answered with one 400 listing every bad field.

/// <summary>The checks of a <c>POST /v1/events</c> body.</summary>
public sealed partial record EventsRequest
{
    /// <summary>What a field of the wrong JSON type is told (null: the generic message).</summary>
    internal static string? ShapeError(string field, JsonValueKind got) => field switch
    {
        "$" => RequestRules.BodyMustBeObject,
        "events" => RequestRules.RequiredArray,
        "events[]" => RequestRules.MustBeObject,
        _ => null,
    };

    /// <summary>Every invalid value by field path: the batch size, then each event (<see cref="EventDto.Validate"/>).</summary>
    internal IEnumerable<(string Path, string Error)> Validate(ServeOptions options)
    {
        if (Events.Length == 0 || Events.Length > options.MaxBatchEvents)
        {
            yield return ("events", $"a batch holds 1 to {options.MaxBatchEvents} events (got {Events.Length})");
            yield break;
        }

        RatingScale scale = options.Scale;
        string scaleFix = $"the service's scale is set with --rating-scale or comes from the --dataset seed (default {EventsEndpoint.ScaleText(RatingScale.FiveStars)}); implicit feedback is sent as \"feedback\": 0 or 1";
        for (int i = 0; i < Events.Length; i++)
        {
            string at = $"events[{i}]";
            if (Events[i] is null)
            {
                yield return (at, RequestRules.MustBeObject);
                continue;
            }

            foreach ((string Path, string Error) error in Events[i].Validate(at, scale, scaleFix))
            {
                yield return error;
            }
        }
    }
}

/// <summary>The checks of one event: the readers' rules (<see cref="EventRules"/>) and the service's rating scale.</summary>
public sealed partial record EventDto
{
    /// <summary>The fix a milliseconds-looking timestamp is told.</summary>
    internal const string MillisecondsFix = "send unix seconds";

    /// <summary>What a field of the wrong JSON type is told (null: the generic message).</summary>
    internal static string? ShapeError(string field, JsonValueKind got) => field switch
    {
        "event_id" or "timestamp" => "required: an integer (int64)",
        "user" or "item" => RequestRules.IdShape(got),
        "rating" => "must be a finite number",
        "feedback" => "must be the integer 0 or 1",
        _ => null,
    };

    /// <summary>
    /// Every invalid value of the event at <paramref name="at"/> (<c>events[3]</c>): ids, the time range with its
    /// milliseconds hint, exactly one of rating and feedback, feedback 0 or 1, a finite rating on <paramref name="scale"/>.
    /// </summary>
    internal IEnumerable<(string Path, string Error)> Validate(string at, RatingScale scale, string scaleFix)
    {
        if (RequestRules.IdProblem(User) is string badUser)
        {
            yield return ($"{at}.user", badUser);
        }

        if (RequestRules.IdProblem(Item) is string badItem)
        {
            yield return ($"{at}.item", badItem);
        }

        if (EventRules.TimestampProblem(Timestamp, MillisecondsFix) is string badTime)
        {
            yield return ($"{at}.timestamp", badTime);
        }

        if (Rating.HasValue == Feedback.HasValue)
        {
            yield return (at, "exactly one of rating and feedback is required");
        }
        else if (Feedback is int f)
        {
            if (f is not (0 or 1))
            {
                yield return ($"{at}.feedback", "must be the integer 0 or 1");
            }
        }
        else if (Rating is double r)
        {
            if (!double.IsFinite(r) || !float.IsFinite((float)r))
            {
                yield return ($"{at}.rating", "must be a finite number");
            }
            else if (EventRules.RatingProblem((float)r, scale, scaleFix) is string badRating)
            {
                yield return ($"{at}.rating", badRating);
            }
        }
    }

    /// <summary>The event as the store takes it (a valid event: the rating, or the feedback 0/1 as its rating).</summary>
    internal ExternalEvent ToEvent() => new(EventId, User, Item, Timestamp, Feedback is int f ? f : (float)Rating.GetValueOrDefault());
}

/// <summary>The checks of a <c>POST /v1/items</c> body.</summary>
public sealed partial record ItemsRequest
{
    /// <summary>What a field of the wrong JSON type is told (null: the generic message).</summary>
    internal static string? ShapeError(string field, JsonValueKind got) => field switch
    {
        "$" => RequestRules.BodyMustBeObject,
        "items" => RequestRules.RequiredArray,
        "items[]" => RequestRules.MustBeObject,
        _ => null,
    };

    /// <summary>Every invalid value by field path: the request size, then each item (<see cref="ItemDto.Validate"/>).</summary>
    internal IEnumerable<(string Path, string Error)> Validate(ServeOptions options)
    {
        if (Items.Length == 0 || Items.Length > options.MaxBatchItems)
        {
            yield return ("items", $"a request holds 1 to {options.MaxBatchItems} items (got {Items.Length})");
            yield break;
        }

        for (int i = 0; i < Items.Length; i++)
        {
            string at = $"items[{i}]";
            if (Items[i] is null)
            {
                yield return (at, RequestRules.MustBeObject);
                continue;
            }

            foreach ((string Path, string Error) error in Items[i].Validate(at))
            {
                yield return error;
            }
        }
    }
}

/// <summary>The checks of one item's metadata.</summary>
public sealed partial record ItemDto
{
    /// <summary>Longest title, in UTF-16 units.</summary>
    internal const int MaxTitle = 1_000;

    /// <summary>Longest free text, in UTF-16 units.</summary>
    internal const int MaxText = 20_000;

    /// <summary>Most categories, and most tags.</summary>
    internal const int MaxLabels = 100;

    /// <summary>Longest category or tag, in UTF-16 units.</summary>
    internal const int MaxLabel = 200;

    /// <summary>What a field of the wrong JSON type is told (null: the generic message).</summary>
    internal static string? ShapeError(string field, JsonValueKind got) => field switch
    {
        "id" => RequestRules.IdShape(got),
        "title" => TextError(MaxTitle),
        "text" => TextError(MaxText),
        "year" => "must be an integer or null",
        "categories" or "tags" => LabelsError,
        "categories[]" or "tags[]" => LabelError,
        _ => null,
    };

    /// <summary>Every invalid value of the item at <paramref name="at"/> (<c>items[3]</c>).</summary>
    internal IEnumerable<(string Path, string Error)> Validate(string at)
    {
        if (RequestRules.IdProblem(Id) is string badId)
        {
            yield return ($"{at}.id", badId);
        }

        if (Title is not null && (Title.Length > MaxTitle || !RequestRules.IsValidUnicode(Title)))
        {
            yield return ($"{at}.title", TextError(MaxTitle));
        }

        if (Text is not null && (Text.Length > MaxText || !RequestRules.IsValidUnicode(Text)))
        {
            yield return ($"{at}.text", TextError(MaxText));
        }

        foreach ((string Path, string Error) error in Labels(Categories, $"{at}.categories").Concat(Labels(Tags, $"{at}.tags")))
        {
            yield return error;
        }
    }

    /// <summary>The item as the store takes it.</summary>
    internal ItemMetadata ToMetadata() => new(Id, Title, Year, Categories ?? [], Tags ?? [], Text);

    private const string LabelsError = "must be an array of at most 100 strings or null";

    private const string LabelError = "must be a non-empty string of at most 200 characters";

    private static string TextError(int max) => $"must be a string of valid Unicode of at most {max} characters or null";

    private static IEnumerable<(string Path, string Error)> Labels(string[]? labels, string at)
    {
        if (labels is null)
        {
            yield break;
        }

        if (labels.Length > MaxLabels)
        {
            yield return (at, LabelsError);
            yield break;
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] is not { Length: > 0 and <= MaxLabel } label || !RequestRules.IsValidUnicode(label))
            {
                yield return ($"{at}[{i}]", LabelError);
            }
        }
    }
}

/// <summary>The checks of a <c>POST /v1/rank</c> body.</summary>
public sealed partial record RankRequest
{
    /// <summary>What a field of the wrong JSON type is told (null: the generic message).</summary>
    internal static string? ShapeError(string field, JsonValueKind got) => field switch
    {
        "$" => RequestRules.BodyMustBeObject,
        "user" => RequestRules.IdShape(got),
        "candidates" => RequestRules.RequiredArray,
        "candidates[]" => RequestRules.IdText,
        _ => null,
    };

    /// <summary>Every invalid value by field path: the user, the number of candidates, then each candidate.</summary>
    internal IEnumerable<(string Path, string Error)> Validate(ServeOptions options)
    {
        if (RequestRules.IdProblem(User) is string badUser)
        {
            yield return ("user", badUser);
        }

        if (Candidates.Length == 0 || Candidates.Length > options.MaxCandidates)
        {
            yield return ("candidates", $"1 to {options.MaxCandidates} candidates (got {Candidates.Length})");
            yield break;
        }

        for (int i = 0; i < Candidates.Length; i++)
        {
            if (Candidates[i] is null)
            {
                yield return ($"candidates[{i}]", RequestRules.IdText);
            }
            else if (RequestRules.IdProblem(Candidates[i]) is string bad)
            {
                yield return ($"candidates[{i}]", bad);
            }
        }
    }
}

/// <summary>The checks of a <c>POST /v1/explain</c> body.</summary>
public sealed partial record ExplainRequest
{
    /// <summary>What a field of the wrong JSON type is told (null: the generic message).</summary>
    internal static string? ShapeError(string field, JsonValueKind got) => field switch
    {
        "$" => "a JSON object with user and item",
        "user" or "item" => RequestRules.IdShape(got),
        _ => null,
    };

    /// <summary>Every invalid value by field path: the user and the item.</summary>
    internal IEnumerable<(string Path, string Error)> Validate()
    {
        if (RequestRules.IdProblem(User) is string badUser)
        {
            yield return ("user", badUser);
        }

        if (RequestRules.IdProblem(Item) is string badItem)
        {
            yield return ("item", badItem);
        }
    }
}

/// <summary>The messages and checks the request DTOs share.</summary>
internal static class RequestRules
{
    /// <summary>A body that is not an object.</summary>
    public const string BodyMustBeObject = "the body must be a JSON object";

    /// <summary>A missing or non-array array field.</summary>
    public const string RequiredArray = "required: an array";

    /// <summary>An array element that is not an object.</summary>
    public const string MustBeObject = "must be an object";

    /// <summary>A field the DTO does not have.</summary>
    public const string UnknownField = "unknown field: not part of this request's schema (see /openapi/v1.json)";

    /// <summary>A missing or non-string id.</summary>
    public static readonly string IdRequired = $"required: a non-empty string of at most {EventRules.MaxIdLength} Unicode characters";

    /// <summary>A string id that is not valid Unicode (invalid UTF-8, a lone surrogate), or a non-string candidate.</summary>
    public static readonly string IdText = $"must be a string of valid Unicode of at most {EventRules.MaxIdLength} characters";

    /// <summary>What an id field of the wrong JSON type is told: a string that could not be read is not valid Unicode.</summary>
    public static string IdShape(JsonValueKind got) => got == JsonValueKind.String ? IdText : IdRequired;

    /// <summary>What is wrong with an external id (<see cref="EventRules.IdProblem"/>), or null.</summary>
    public static string? IdProblem(string id) => IsValidUnicode(id) ? EventRules.IdProblem(id) : IdText;

    /// <summary>False for text with a lone surrogate (an escaped "\ud800" that slipped through the reader).</summary>
    public static bool IsValidUnicode(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>What a field of the wrong JSON type is told, by the DTO that declares it (see the ShapeError methods).</summary>
    public static string ShapeError(Type dto, string field, JsonValueKind got)
    {
        string? message = dto == typeof(EventsRequest) ? EventsRequest.ShapeError(field, got)
            : dto == typeof(EventDto) ? EventDto.ShapeError(field, got)
            : dto == typeof(ItemsRequest) ? ItemsRequest.ShapeError(field, got)
            : dto == typeof(ItemDto) ? ItemDto.ShapeError(field, got)
            : dto == typeof(RankRequest) ? RankRequest.ShapeError(field, got)
            : dto == typeof(ExplainRequest) ? ExplainRequest.ShapeError(field, got)
            : null;
        return message ?? (got == JsonValueKind.Undefined ? "required" : "has the wrong JSON type for this field (see /openapi/v1.json)");
    }
}
