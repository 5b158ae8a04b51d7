using System.Globalization;
using System.Text.Json;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Cli.Commands;
using ScottPlot;

namespace Liber.Cli.Experiments;

/// <summary>
/// <c>liber report --timeline USER</c>: the timeline page's picture of one user, offline, from a run folder: the user's partitions
/// under the run's LIBER policy, oldest first, each a stacked band of its categories (<see cref="PartitionCategories"/>, as the
/// page draws them), and, when the run's recorded attention sample is this user's, UIF's weights as bars above the bands.
/// </summary>
public static class TimelineChart
{
    /// <summary>What was drawn.</summary>
    /// <param name="Path">The PNG.</param>
    /// <param name="Run">The run folder read.</param>
    /// <param name="Partitions">The user's closed partitions.</param>
    /// <param name="Attention">Whether UIF's weights were drawn.</param>
    public sealed record Result(string Path, string Run, int Partitions, bool Attention);

    /// <summary>Draws <paramref name="user"/>'s timeline from the first LIBER run of <paramref name="runs"/> (else the first run, under the default count policy) into <paramref name="path"/>.</summary>
    public static Result Write(IReadOnlyList<FinishedRun> runs, string user, string path)
    {
        ArgumentNullException.ThrowIfNull(runs);
        FinishedRun run = runs.FirstOrDefault(r => r.Spec.Liber is not null) ?? (runs.Count > 0 ? runs[0] : throw new ArgumentException("--timeline: no finished run in the given folders"));
        Dataset dataset = ExperimentRunner.LoadDataset(run.Spec.Dataset);
        int u = Find(dataset, user) ?? throw new ArgumentException($"--timeline {user}: no such user in {dataset.Kind} ({dataset.Source}); give a user id of the data set");
        var streams = UserStreams.Build(dataset);
        PartitionOptions options = run.Spec.Liber is { } l ? ReportCommand.ToOptions(l) : new PartitionOptions();
        PartitionSet set = PartitionSet.Build(streams, PartitionPolicies.Create(options), options.Caps, ItemFeatures.Build(dataset, new Cl100kTokenCounter()));
        ReadOnlySpan<Partition> parts = set.Of(u);
        if (parts.Length == 0)
        {
            throw new ArgumentException($"--timeline {user}: the user has no closed partition under {set.Policy} ({streams.Length(u)} events)");
        }

        var palette = new ScottPlot.Palettes.Category20();
        var colours = new Dictionary<string, Color>(StringComparer.OrdinalIgnoreCase);
        var plot = new Plot();
        var bars = new List<Bar>();
        var labels = new List<string>();
        for (int k = 0; k < parts.Length; k++)
        {
            Partition p = parts[k];
            int[] items = [.. Enumerable.Range(p.Start, p.Count).Select(i => streams.Items[streams.Row(u, i)])];
            double y = 0;
            foreach (CategoryShare c in PartitionCategories.Of(items, dataset.Catalog))
            {
                if (!colours.TryGetValue(c.Name, out Color colour))
                {
                    colour = c.Name == "other" ? Colors.Gray : palette.GetColor(colours.Count);
                    colours[c.Name] = colour;
                }

                bars.Add(new Bar { Position = k, ValueBase = y, Value = y + c.Share, FillColor = colour, Size = 0.8 });
                y += c.Share;
            }

            labels.Add($"#{p.Number}\n{DateTimeOffset.FromUnixTimeSeconds(p.StartTime).UtcDateTime.ToString("yy-MM-dd", CultureInfo.InvariantCulture)}");
        }

        bool attention = false;
        if (run.Result.TryGetProperty("attention", out JsonElement a) && a.ValueKind == JsonValueKind.Object
            && a.TryGetProperty("user_id", out JsonElement id) && id.GetString() == dataset.Users.External(u))
        {
            int[] numbers = [.. a.GetProperty("partitions").EnumerateArray().Select(x => x.GetInt32())];
            double[] weights = [.. a.GetProperty("weights").EnumerateArray().Select(x => x.GetDouble())];
            for (int i = 0; i < numbers.Length && i < weights.Length; i++)
            {
                bars.Add(new Bar { Position = numbers[i], ValueBase = 1.05, Value = 1.05 + (0.5 * weights[i]), FillColor = Colors.Black, Size = 0.5 });
            }

            plot.Add.Text($"UIF attention for {a.GetProperty("target").GetString()}", 0, 1.62);
            attention = true;
        }

        plot.Add.Bars(bars);
        foreach ((string name, Color colour) in colours)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = name, FillColor = colour });
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. Enumerable.Range(0, parts.Length).Select(i => (double)i)], [.. labels]);
        plot.Axes.SetLimitsY(0, attention ? 1.7 : 1.02);
        plot.Title($"User {dataset.Users.External(u)}: {parts.Length} partitions ({set.Policy}), {dataset.Kind}");
        plot.YLabel("share of the partition's events by category");
        plot.ShowLegend(Edge.Right);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        plot.SavePng(path, Math.Max(700, 90 * parts.Length + 300), 520);
        return new Result(path, run.Directory, parts.Length, attention);
    }

    private static int? Find(Dataset dataset, string user) =>
        dataset.Users.TryGet(user.AsSpan(), out int u) ? u
        : long.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && dataset.Users.TryGet(n, out u) ? u
        : null;
}
