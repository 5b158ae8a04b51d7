using Liber.Models.Backbones;
using Liber.Models.Features;
using static TorchSharp.torch;

namespace Liber.Models.Tests;

/// <summary>The user_id option: off, the model cannot tell two users apart by id (only by profile and behaviour).</summary>
[Collection(TorchCollection.Name)]
public sealed class UserIdOptionTests
{
    private static float[] Scores(string backbone, bool userId, long[] users)
    {
        TorchRuntime.Configure(threads: 1, seed: 23);
        var config = new ModelConfig { Backbone = backbone, Options = new BackboneOptions { EmbeddingSize = 8, Hidden = [16], AttentionHidden = [8], UserId = userId, Stats = false } };
        using var model = new CtrModel(Fixture.Tables.Map, config);
        model.eval();
        var collator = Collator.For(model, Fixture.Samples, Fixture.Tables, null);
        using var scope = NewDisposeScope();
        using var grad = no_grad();
        CtrBatch batch = collator.Build(Enumerable.Repeat(Fixture.Samples.TrainCount - 1, users.Length).ToArray());

        // The same sample for every row, with the user id replaced: only the id embedding can tell the rows apart.
        CtrBatch swapped = new()
        {
            Size = batch.Size, Users = tensor(users), UserFields = batch.UserFields, Items = batch.Items, ItemCategories = batch.ItemCategories,
            ItemFields = batch.ItemFields, HistoryItems = batch.HistoryItems, HistoryCategories = batch.HistoryCategories,
            HistoryRatings = batch.HistoryRatings, HistoryMask = batch.HistoryMask, Labels = batch.Labels, UserIds = batch.UserIds,
        };
        return model.call(swapped).data<float>().ToArray();
    }

    [Theory]
    [InlineData("din")]
    [InlineData("deepfm")]
    public void Without_the_user_id_two_users_with_the_same_inputs_score_the_same(string backbone)
    {
        long[] users = [1, 2, 3];
        float[] with = Scores(backbone, userId: true, users);
        float[] without = Scores(backbone, userId: false, users);
        Assert.NotEqual(with[0], with[1]);
        Assert.Equal(without[0], without[1]);
        Assert.Equal(without[0], without[2]);
    }
}
