using System.Text.Json.Serialization;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Models;
using Liber.Models.Features;

namespace Liber.Pipeline;

/// <summary>One test sample's UIF attention over the partitions it may see (for reports).</summary>
/// <param name="User">Dense user id (joins with partitions and samples; people read <see cref="UserId"/>).</param>
/// <param name="Index">The sample's index in the user's stream.</param>
/// <param name="Target">The target item, readable.</param>
/// <param name="Partitions">The visible partitions' numbers, oldest first.</param>
/// <param name="Weights">UIF's weight of each, in the same order.</param>
public sealed record AttentionProbe(
    [property: JsonPropertyName("user")] int User,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("partitions")] IReadOnlyList<int> Partitions,
    [property: JsonPropertyName("weights")] IReadOnlyList<float> Weights)
{
    /// <summary>The data set's own id of the user (null in results written before it was recorded).</summary>
    [JsonPropertyName("user_id")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UserId { get; init; }

    /// <summary>The test sample whose user sees the most partitions (up to 8; ties: the earliest), with its weights; null without fusion.</summary>
    public static AttentionProbe? Pick(CtrModel model, Collator collator, SampleSet samples, PartitionSet set)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(set);
        Range test = samples.RangeOf(Split.Test);
        int best = -1, bestCount = 0;
        for (int o = test.Start.Value; o < test.End.Value; o++)
        {
            (int user, int index, _) = samples[o];
            int k = Math.Min(8, set.VisibleCount(user, index));
            if (k > bestCount)
            {
                (best, bestCount) = (o, k);
            }
        }

        if (best < 0 || model.FusionWeights(collator, best) is not float[] w)
        {
            return null;
        }

        (int u, int i, int row) = samples[best];
        ReadOnlySpan<Partition> visible = set.Visible(u, i, w.Length);
        int n = Math.Min(visible.Length, w.Length);
        var numbers = new int[n];
        for (int k = 0; k < n; k++)
        {
            numbers[k] = visible[k].Number;
        }

        var item = samples.Streams.Dataset.Catalog[samples.Streams.Items[row]];
        return new AttentionProbe(u, i, $"{item.Title} [item {item.ExternalId}] ({string.Join(", ", item.Categories)})", numbers, w[..n]) { UserId = samples.Streams.Dataset.Users.External(u) };
    }
}
