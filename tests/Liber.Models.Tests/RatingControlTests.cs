using Liber.Core.Data;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Training;
using Xunit.Abstractions;

namespace Liber.Models.Tests;

/// <summary>
/// Positive control for history ratings (issue 16): in a generated world every user picks items uniformly from the same
/// pool and rates them 5 when they like the item's category, 1 when not (a fixed taste per user and category). The label
/// of a sample is therefore "did this user like the target's category", which only the ratings of the user's earlier
/// events on that category reveal: the items themselves carry nothing. Each backbone must learn it from the ratings
/// (test AUC above 0.9), and must not with the ratings ignored (AUC near 0.5), so the test shows ratings reach the model.
/// User ids are off and there are no profiles, so a user's taste cannot be memorised from the id.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class RatingControlTests(ITestOutputHelper log)
{
    private const int Categories = 3;

    private static readonly Lazy<(SampleSet Samples, FeatureTables Tables)> World = new(() =>
    {
        const int users = 200, itemsPerCategory = 8, eventsPerUser = 36;
        var random = new Random(11);
        var userIds = new IdMap();
        var itemIds = new IdMap();
        var catalog = new List<Item>();
        for (int i = 0; i < Categories * itemsPerCategory; i++)
        {
            int id = itemIds.GetOrAdd(i + 1);
            catalog.Add(new Item(id, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), $"item {i}", null, [$"c{i % Categories}"], [], null));
        }

        bool[][] likes = new bool[users][];
        for (int u = 0; u < users; u++)
        {
            userIds.GetOrAdd(u + 1);
            likes[u] = Enumerable.Range(0, Categories).Select(_ => random.Next(2) == 0).ToArray();
        }

        // Users interleaved in time, so that the time split puts every user's later events in validation and test.
        var events = new EventTable(users * eventsPerUser);
        for (int step = 0; step < eventsPerUser; step++)
        {
            for (int u = 0; u < users; u++)
            {
                int item = random.Next(catalog.Count);
                events.Add(u, item, 1_000_000 + ((long)step * users) + u, likes[u][item % Categories] ? 5 : 1);
            }
        }

        var dataset = new Dataset("rating-control", "generated", userIds, itemIds, events, catalog, catalog.Count, new UserProfile?[users], RatingScale.FiveStars, new LoadReport());
        SampleSet samples = SampleSet.Build(UserStreams.Build(dataset), new SampleOptions { HistoryLength = 10 });
        return (samples, FeatureTables.Build(samples, maxPartitions: 4));
    });

    public static TheoryData<string, RatingEncoding> Cases()
    {
        var data = new TheoryData<string, RatingEncoding>();
        foreach (string name in BackboneCatalog.Names)
        {
            data.Add(name, RatingEncoding.Level);
            data.Add(name, RatingEncoding.Sentiment);
        }

        return data;
    }

    private static TrainResult Train(string backbone, RatingEncoding ratings)
    {
        (SampleSet samples, FeatureTables tables) = World.Value;
        return ControlTraining.Fit(samples, tables, backbone, ControlTraining.Small with { Ratings = ratings }, epochs: 6);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ratings_in_the_history_are_learned_and_nothing_else_predicts_the_label(string backbone, RatingEncoding encoding)
    {
        TrainResult with = Train(backbone, encoding);
        TrainResult without = Train(backbone, RatingEncoding.None);
        log.WriteLine($"{backbone} ({encoding}): with ratings test AUC {with.Test.Auc:F4} (valid {with.Valid.Auc:F4}), without {without.Test.Auc:F4} (valid {without.Valid.Auc:F4}), {with.Test.Samples} test samples");
        Assert.True(with.Test.Samples > 300, $"{with.Test.Samples} test samples");
        Assert.True(with.Test.Auc > 0.9, $"{backbone} did not learn the label from history ratings: test AUC {with.Test.Auc:F4}");
        Assert.InRange(without.Test.Auc, 0.4, 0.6);
    }
}
