using Liber.Core.Partitioning;
using Liber.Core.Streams;

namespace Liber.Pipeline;

/// <summary>
/// The <c>single</c> fusion's partitioning (a per-user baseline in the style of KAR): one pseudo-partition per user. It is
/// leakage-sensitive: validation and test samples must never see their own or later events (<c>PerUserHistoryTests</c>).
/// </summary>
public static class PerUserHistory
{
    /// <summary>
    /// One pseudo-partition per user: the most recent events at or before the train cut-off (protocol order
    /// (timestamp, user, index) up to the last train sample) that fit the prompt-token and event caps.
    /// </summary>
    public static PartitionSet Build(SampleSet samples, ItemFeatures features, PartitionCaps caps)
    {
        UserStreams s = samples.Streams;
        var byUser = new List<Partition>[s.UserCount];
        (long Ts, int User, int Index) cut = samples.TrainCount == 0 ? (long.MinValue, -1, -1) : samples[samples.TrainCount - 1] is var (cu, ci, crow) ? (s.Timestamps[crow], cu, ci) : default;
        for (int u = 0; u < s.UserCount; u++)
        {
            byUser[u] = [];
            int last = -1;
            for (int i = 0; i < s.Length(u); i++)
            {
                (long, int, int) key = (s.Timestamps[s.Row(u, i)], u, i);
                if (key.CompareTo(cut) <= 0)
                {
                    last = i;
                }
            }

            if (last < 0)
            {
                continue;
            }

            int first = last, tokens = features.Tokens(s.Items[s.Row(u, last)]);
            while (first > 0 && last - first + 1 < caps.MaxEvents && tokens + features.Tokens(s.Items[s.Row(u, first - 1)]) <= caps.MaxPromptTokens)
            {
                first--;
                tokens += features.Tokens(s.Items[s.Row(u, first)]);
            }

            var events = new PartitionEvent[last - first + 1];
            for (int i = first; i <= last; i++)
            {
                int row = s.Row(u, i);
                events[i - first] = new PartitionEvent(s.Positions[row], s.Items[row], s.Timestamps[row], s.Ratings[row]);
            }

            byUser[u].Add(new Partition(u, 0, first, last, events[0].Timestamp, events[^1].Timestamp, [.. events.Select(e => e.EventId)], tokens, Partition.Hash(events)));
        }

        return PartitionSet.FromUsers(byUser, new int[s.UserCount], $"single(history up to the train cut, max_events={caps.MaxEvents}, max_prompt_tokens={caps.MaxPromptTokens})");
    }
}
