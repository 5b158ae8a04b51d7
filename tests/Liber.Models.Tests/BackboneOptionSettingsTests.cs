using Liber.Models.Backbones;

namespace Liber.Models.Tests;

public sealed class BackboneOptionSettingsTests
{
    [Fact]
    public void Every_option_of_the_record_has_a_key()
    {
        Assert.Equal(typeof(BackboneOptions).GetProperties(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public).Length, BackboneOptionSettings.Keys.Count);
        Assert.Contains("recent", BackboneOptionSettings.Keys);
        Assert.Contains("embedding_size", BackboneOptionSettings.Keys);
        Assert.Contains("cross_rank", BackboneOptionSettings.Keys);
    }

    [Fact]
    public void Settings_replace_numbers_lists_names_nulls_and_flags_and_the_last_one_wins()
    {
        var d = new BackboneOptions { CrossRank = 4 };
        BackboneOptions o = BackboneOptionSettings.Apply(d, BackboneOptionSettings.Parse(
            ["embedding_size=8", "hidden=64,32", "attention_hidden=[]", "ratings=sentiment", "cross_rank=null", "stats=false", "auxiliary_weight=0.5", "embedding_size=12"]));
        Assert.Equal(12, o.EmbeddingSize);
        Assert.Equal([64, 32], o.Hidden);
        Assert.Empty(o.AttentionHidden);
        Assert.Equal(RatingEncoding.Sentiment, o.Ratings);
        Assert.Null(o.CrossRank);
        Assert.False(o.Stats);
        Assert.Equal(0.5, o.AuxiliaryWeight, 9);

        // Untouched options keep their values; no settings give the record back.
        Assert.Equal(d.AttentionHeads, o.AttentionHeads);
        Assert.Same(d, BackboneOptionSettings.Apply(d, []));
    }

    [Theory]
    [InlineData("heads=2", "backbone option heads: unknown")]
    [InlineData("hidden=1,two", "backbone option hidden: 1,two is not a list of whole numbers")]
    [InlineData("embedding_size=big", "backbone option embedding_size: big is not a valid value")]
    [InlineData("dropout=1.5", "backbone option dropout has an invalid value 1.5")]
    [InlineData("ratings=loud", "backbone option ratings: loud is not a valid value")]
    public void Bad_settings_are_errors_naming_the_key_and_value(string setting, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => BackboneOptionSettings.Apply(new BackboneOptions(), BackboneOptionSettings.Parse([setting])));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_setting_without_a_value_is_an_error()
    {
        var e = Assert.Throws<ArgumentException>(() => BackboneOptionSettings.Parse(["embedding_size="]));
        Assert.Contains("expected key=value", e.Message, StringComparison.Ordinal);
    }
}
