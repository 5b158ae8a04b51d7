using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Interests.Prompts;

namespace Liber.Interests.Learning;

/// <summary>A cumulative cost curve as a data set's stream grows in global time order.</summary>
/// <param name="Label">The strategy.</param>
/// <param name="Events">Events of the stream seen so far (x).</param>
/// <param name="Values">Cumulative calls or prompt tokens (y).</param>
public sealed record CostCurve(string Label, double[] Events, double[] Values);

/// <summary>
/// The one cost model of UIL (used by <c>learn --dry-run</c>, the demo, <c>report</c> and the results page): the LLM calls
/// and prompt tokens that LIBER needs (one summary, and one shift in two-call mode, per closed partition, charged at the
/// partition's last event) against (a) re-summarising the user's whole history at every new event and (b) one summary
/// per user over the whole history (charged at the user's first event). Histories longer than the context window are
/// truncated to it in both naive strategies, as a real server would require. Prompt tokens are cl100k_base counts of the
/// rendered prompts: the fixed parts of each template (system text, instructions, profile) measured on a rendered
/// prompt, the item lines as rendered, and <see cref="SummaryTokens"/> per carried summary. No LLM is called.
/// </summary>
public sealed class LlmCostModel
{
    private readonly UserStreams _streams;
    private readonly int[] _order;
    private readonly double[] _liberCalls, _liberTokens, _perEventTokens, _perUserTokens, _perUserCalls;

    private LlmCostModel(UserStreams streams, string liberLabel, int[] order, double[][] costs, EfficiencyEstimate totals)
    {
        _streams = streams;
        LiberLabel = liberLabel;
        _order = order;
        (_liberCalls, _liberTokens, _perEventTokens, _perUserTokens, _perUserCalls) = (costs[0], costs[1], costs[2], costs[3], costs[4]);
        Totals = totals;
    }

    /// <summary>Assumed length of a summary carried into a cascade prompt (tokens).</summary>
    public const int SummaryTokens = 200;

    /// <summary>Totals over the whole stream.</summary>
    public EfficiencyEstimate Totals { get; }

    /// <summary>Label of the LIBER strategy (policy and mode).</summary>
    public string LiberLabel { get; }

    /// <summary>Computes the costs of every event of <paramref name="streams"/> under the given partitions and prompts.</summary>
    public static LlmCostModel Compute(UserStreams streams, PartitionSet partitions, PromptRenderer renderer, ITokenCounter tokens, LearnMode mode,
        int contextWindow = 8192, int summaryTokens = SummaryTokens, int maxOutputTokens = 400)
    {
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(renderer);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextWindow, 512);
        int n = streams.EventCount;
        double[][] costs = [new double[n], new double[n], new double[n], new double[n], new double[n]];
        (double[] liberCalls, double[] liberTokens, double[] perEvent, double[] perUser, double[] perUserCalls) = (costs[0], costs[1], costs[2], costs[3], costs[4]);
        string label = $"LIBER ({partitions.Policy}, {(mode == LearnMode.TwoCall ? "two-call" : "one-call")})";
        int user0 = Enumerable.Range(0, streams.UserCount).FirstOrDefault(u => streams.Length(u) > 0, -1);
        if (user0 < 0)
        {
            return new LlmCostModel(streams, label, [], costs, new EfficiencyEstimate { ContextWindow = contextWindow, SummaryTokens = summaryTokens });
        }

        IReadOnlyList<Item> catalog = streams.Dataset.Catalog;
        var itemTokens = new int[catalog.Count];
        Parallel.For(0, catalog.Count, i => itemTokens[i] = tokens.Count(renderer.ItemLine(catalog[i], 5.0f)) + 1);

        // Fixed prompt parts: a one-event prompt minus that event's line.
        int line0 = itemTokens[streams.Items[streams.Offsets[user0]]];
        int Overhead(ChatPrompt p, int lines) => tokens.Count(p.System) + tokens.Count(p.User) - lines;
        int ovSummary = Overhead(renderer.Summary(user0, 0, 0, null), line0);
        int ovOneCall = Overhead(renderer.OneCall(user0, 0, 0, null, isFirst: false), line0);
        int ovShift = Overhead(renderer.Shift(user0, 0, 0, string.Empty, string.Empty), 0);

        long budget = Math.Max(1, contextWindow - ovSummary - maxOutputTokens);
        ReadOnlySpan<int> items = streams.Items;
        long users = 0;
        for (int u = 0; u < streams.UserCount; u++)
        {
            int row0 = streams.Offsets[u], count = streams.Length(u);
            if (count == 0)
            {
                continue;
            }

            users++;
            long prefix = 0;
            for (int i = 0; i < count; i++)
            {
                prefix += itemTokens[items[row0 + i]];
                perEvent[row0 + i] = ovSummary + Math.Min(prefix, budget);
            }

            perUser[row0] = ovSummary + Math.Min(prefix, budget);
            perUserCalls[row0] = 1;
            ReadOnlySpan<Partition> ps = u < partitions.UserCount ? partitions.Of(u) : [];
            for (int k = 0; k < ps.Length; k++)
            {
                long lines = 0;
                for (int i = ps[k].Start; i <= ps[k].End; i++)
                {
                    lines += itemTokens[items[row0 + i]];
                }

                long carried = k > 0 ? summaryTokens : 0;
                int end = row0 + ps[k].End;
                if (mode == LearnMode.OneCall)
                {
                    liberCalls[end] += 1;
                    liberTokens[end] += ovOneCall + lines + carried;
                }
                else
                {
                    liberCalls[end] += k > 0 ? 2 : 1;
                    liberTokens[end] += ovSummary + lines + carried + (k > 0 ? ovShift + (2L * summaryTokens) : 0);
                }
            }
        }

        var totals = new EfficiencyEstimate
        {
            Partitions = partitions.Count,
            LiberCalls = (long)liberCalls.Sum(),
            LiberPromptTokens = (long)liberTokens.Sum(),
            NaivePerEventCalls = streams.EventCount,
            NaivePerEventPromptTokens = (long)perEvent.Sum(),
            PerUserCalls = users,
            PerUserPromptTokens = (long)perUser.Sum(),
            ContextWindow = contextWindow,
            SummaryTokens = summaryTokens,
        };
        return new LlmCostModel(streams, label, StoreFeeder.GlobalOrder(streams), costs, totals);
    }

    /// <summary>
    /// The cost model of a data set under a partition policy: builds the streams, the partitions and the prompts of the
    /// data set's domain (or <paramref name="domain"/>), and counts with cl100k_base.
    /// </summary>
    public static LlmCostModel ForDataset(Dataset dataset, PartitionOptions policy, LearnMode mode, string? domain = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(policy);
        var streams = UserStreams.Build(dataset);
        var counter = new Cl100kTokenCounter();
        var features = ItemFeatures.Build(dataset, counter);
        PartitionSet set = PartitionSet.Build(streams, PartitionPolicies.Create(policy), policy.Caps, features);
        var renderer = new PromptRenderer(streams, PromptTemplates.Load(domain ?? PromptTemplates.DomainFor(dataset.Kind)));
        return Compute(streams, set, renderer, counter, mode);
    }

    /// <summary>The three cumulative curves (LIBER, re-summarise at every event, one summary per user) at <paramref name="points"/> evenly spaced stream lengths.</summary>
    public IReadOnlyList<CostCurve> Curves(bool promptTokens, int points = 40)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 1);
        double[] ones = promptTokens ? [] : Enumerable.Repeat(1.0, _streams.EventCount).ToArray();
        (double[] Costs, string Label)[] strategies =
        [
            (promptTokens ? _liberTokens : _liberCalls, LiberLabel),
            (promptTokens ? _perEventTokens : ones, "re-summarise the whole history at every event"),
            (promptTokens ? _perUserTokens : _perUserCalls, "one summary per user (never updated)"),
        ];
        var xs = new double[points];
        var ys = strategies.Select(_ => new double[points]).ToArray();
        var sums = new double[strategies.Length];
        int next = 0;
        for (int k = 0; k < _order.Length; k++)
        {
            for (int s = 0; s < strategies.Length; s++)
            {
                sums[s] += strategies[s].Costs[_order[k]];
            }

            while (next < points && k + 1 >= (long)_order.Length * (next + 1) / points)
            {
                xs[next] = k + 1;
                for (int s = 0; s < strategies.Length; s++)
                {
                    ys[s][next] = sums[s];
                }

                next++;
            }
        }

        return [.. strategies.Select((s, i) => new CostCurve(s.Label, xs, ys[i]))];
    }
}
