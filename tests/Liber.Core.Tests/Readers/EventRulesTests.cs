using Liber.Core.Data;

namespace Liber.Core.Tests.Readers;

/// <summary>The event rules the readers and the service share.</summary>
public sealed class EventRulesTests
{
    [Theory]
    [InlineData(0L, null)]
    [InlineData(4_102_444_799L, null)]
    [InlineData(-1L, "timestamp -1 is before 1970: timestamps are unix seconds between 1970 and 2100")]
    [InlineData(4_102_444_800L, "timestamp 4102444800 is after 2100: milliseconds? FIX")]
    [InlineData(1_700_000_000_000L, "timestamp 1700000000000 is after 2100: milliseconds? FIX")]
    [InlineData(4_102_444_800_000L, "timestamp 4102444800000 is after 2100: timestamps are unix seconds between 1970 and 2100")]
    [InlineData(long.MaxValue, "timestamp 9223372036854775807 is after 2100: timestamps are unix seconds between 1970 and 2100")]
    [InlineData(long.MinValue, "timestamp -9223372036854775808 is before 1970: timestamps are unix seconds between 1970 and 2100")]
    public void Timestamps_are_unix_seconds_from_1970_to_2100(long ts, string? expected) =>
        Assert.Equal(expected, EventRules.TimestampProblem(ts, "FIX"));

    [Fact]
    public void Without_a_fix_there_is_no_milliseconds_hint() =>
        Assert.DoesNotContain("milliseconds", EventRules.TimestampProblem(1_700_000_000_000, null), StringComparison.Ordinal);

    [Theory]
    [InlineData(1f, null)]
    [InlineData(5f, null)]
    [InlineData(4.5f, "rating 4.5 is not on the rating scale [1, 5] in steps of 1; FIX")]
    [InlineData(99f, "rating 99 is not on the rating scale [1, 5] in steps of 1; FIX")]
    [InlineData(-3f, "rating -3 is not on the rating scale [1, 5] in steps of 1; FIX")]
    [InlineData(float.NaN, "rating NaN is not on the rating scale [1, 5] in steps of 1; FIX")]
    public void Ratings_must_be_on_the_scale_and_its_step(float rating, string? expected) =>
        Assert.Equal(expected, EventRules.RatingProblem(rating, RatingScale.FiveStars, "FIX"));

    [Fact]
    public void A_scale_without_a_step_takes_any_value_in_range()
    {
        var scale = new RatingScale(0, 10, 5);
        Assert.Null(EventRules.RatingProblem(7.25f, scale, "FIX"));
        Assert.Equal("rating 11 is not on the rating scale [0, 10]; FIX", EventRules.RatingProblem(11, scale, "FIX"));
    }

    [Theory]
    [InlineData("u", null)]
    [InlineData("a/b %", null)]
    [InlineData("", "must be a non-empty string of at most 128 Unicode characters, not blank")]
    [InlineData(" \t", "must be a non-empty string of at most 128 Unicode characters, not blank")]
    [InlineData("a\u0001b", "contains the control character U+0001: ids are printable text")]
    public void Ids_are_printable_unicode(string id, string? expected) => Assert.Equal(expected, EventRules.IdProblem(id));

    [Fact]
    public void A_lone_surrogate_is_not_an_id()
    {
        Assert.Equal("is not valid Unicode (a lone surrogate)", EventRules.IdProblem("a" + '\ud800'));
        Assert.Equal("is not valid Unicode (a lone surrogate)", EventRules.IdProblem('\udc00' + "a"));
    }

    [Fact]
    public void Id_length_counts_unicode_characters()
    {
        string emoji = string.Concat(Enumerable.Repeat("👍🏽", 64)); // 128 code points, 256 UTF-16 units
        Assert.Equal(128, EventRules.IdLength(emoji));
        Assert.Null(EventRules.IdProblem(emoji));
        Assert.Equal("has 129 Unicode characters: at most 128 are allowed", EventRules.IdProblem(emoji + "é"));
    }

    [Theory]
    [InlineData("1:5:1", 1f, 5f, 1f, 4f)]
    [InlineData("0.5:5:0.5", 0.5f, 5f, 0.5f, 4f)]
    [InlineData("0:1", 0f, 1f, null, 0.5f)]
    public void Scales_parse_from_min_max_step(string text, float min, float max, float? step, float threshold) =>
        Assert.Equal(new RatingScale(min, max, threshold, step), EventRules.ParseScale(text));

    [Theory]
    [InlineData("5")]
    [InlineData("5:1")]
    [InlineData("1:5:0")]
    [InlineData("a:b")]
    [InlineData("1:5:1:1")]
    public void Bad_scales_are_user_errors(string text) =>
        Assert.Contains("MIN:MAX[:STEP]", Assert.Throws<ArgumentException>(() => EventRules.ParseScale(text)).Message, StringComparison.Ordinal);
}
