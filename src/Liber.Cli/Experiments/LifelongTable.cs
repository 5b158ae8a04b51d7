using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;

namespace Liber.Cli.Experiments;

/// <summary>Where a results page's charts go: the page's own folder (charts are linked by file name) and the page's name, which starts every chart's name.</summary>
/// <param name="Folder">The folder of the page file.</param>
/// <param name="PageName">The page's file name without extension (e.g. <c>results</c>).</param>
public sealed record PageCharts(string Folder, string PageName)
{
    /// <summary>The charts of the Markdown page <paramref name="pageFile"/>, written beside it.</summary>
    public static PageCharts Beside(string pageFile) =>
        new(Path.GetDirectoryName(Path.GetFullPath(pageFile))!, Path.GetFileNameWithoutExtension(pageFile));
}

/// <summary>
/// A <c>lifelong</c> table of a results page: the AUC on the samples of users with few and with many events before the
/// sample (the trainer's buckets under <c>valid.buckets</c> and <c>test.buckets</c> of a run's result: 0-49, 50-199,
/// 200-999, 1000+), per row group of the table, mean ± std over seeds, and per bucket the difference to the row's
/// reference (the rule of comparison tables); a test table and a validation table per data set, and a chart of the test
/// AUC by bucket, one line per row group.
/// </summary>
public static class LifelongTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] Splits = ["test", "valid"];

    /// <summary>The AUC of one bucket of a run's split (<c>test</c> or <c>valid</c>); NaN when the run has no such bucket or its AUC is undefined (no sample, or one label only).</summary>
    public static double Auc(FinishedRun run, string split, string bucket) =>
        Bucket(run, split, bucket) is { } b && b.TryGetProperty("auc", out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    /// <summary>The sample count of one bucket of a run's split, or null when the run has no such bucket.</summary>
    public static long? Samples(FinishedRun run, string split, string bucket) =>
        Bucket(run, split, bucket) is { } b && b.TryGetProperty("samples", out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    /// <summary>The bucket labels of a run's split (none for runs made before the trainer wrote buckets).</summary>
    public static IEnumerable<string> Labels(FinishedRun run, string split)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Result.TryGetProperty(split, out JsonElement s) && s.ValueKind == JsonValueKind.Object
            && s.TryGetProperty("buckets", out JsonElement b) && b.ValueKind == JsonValueKind.Object
            ? [.. b.EnumerateObject().Select(p => p.Name)]
            : [];
    }

    /// <summary>Bucket labels, each once, in the numeric order of the number they start with ("0-49", "50-199", "200-999", "1000+"); labels that start with no number follow in ordinal order.</summary>
    public static IReadOnlyList<string> Order(IEnumerable<string> labels) =>
        [.. labels.Distinct(StringComparer.Ordinal).OrderBy(l => LowerBound(l) ?? long.MaxValue).ThenBy(l => l, StringComparer.Ordinal)];

    /// <summary>The chart file of a data set: <c>&lt;page&gt;-lifelong&lt;suffix&gt;-&lt;data set slug&gt;.png</c>.</summary>
    public static string ChartName(string pageName, string dataset, string suffix = "") => $"{pageName}-lifelong{suffix}-{Slug(dataset)}.png";

    /// <summary>
    /// Writes the table's section: per data set the test and the validation table, and, when <paramref name="charts"/> is
    /// given, the test chart beside the page and its link. <paramref name="chartSuffix"/> tells apart the charts of a
    /// page's second and later lifelong tables.
    /// </summary>
    internal static void Write(StringBuilder md, List<FinishedRun> rows, TableSpec table, PageCharts? charts, string chartSuffix)
    {
        md.AppendLine("AUC on the samples whose user had the given number of events before the sample (the trainer's buckets), " +
            "mean ± sample std over seeds. Δ: the bucket's mean AUC minus the reference's (the reference rule of comparison tables), " +
            "`*` when the difference is beyond twice its standard error over seeds. n/a: the runs hold no such bucket (made before the " +
            "trainer wrote buckets) or its AUC is undefined. A bucket without samples on a data set has no column. " +
            "The test split first, then the validation split.").AppendLine();
        foreach (IGrouping<string, FinishedRun> byData in ResultsPage.ByDataset(rows))
        {
            md.AppendLine(Inv, $"**{byData.Key}**").AppendLine();
            List<IGrouping<string, FinishedRun>> groups = [.. ResultsPage.OrderedGroups(byData, table)];
            foreach (string split in Splits)
            {
                string splitName = split == "test" ? "Test" : "Validation";
                IReadOnlyList<string> all = Order(byData.SelectMany(r => Labels(r, split)));
                if (all.Count == 0)
                {
                    md.AppendLine(Inv, $"{splitName} split: no run of this data set recorded buckets (runs made before the trainer wrote them).").AppendLine();
                    continue;
                }

                // The bucket sizes are those of the data set's split, the same in every run that recorded them.
                (string Bucket, long? Samples)[] counts = [.. all.Select(b => (b, byData.Select(r => Samples(r, split, b)).FirstOrDefault(n => n is not null)))];
                string[] buckets = [.. counts.Where(c => c.Samples is not 0).Select(c => c.Bucket)];
                md.AppendLine(Inv, $"{splitName} split, samples per bucket: {string.Join(", ", counts.Select(c => $"{c.Bucket}: {(c.Samples is { } n ? n.ToString("N0", Inv) : "n/a")}"))}.").AppendLine();
                md.AppendLine("| model | seeds | " + string.Join(" | ", buckets.Select(b => $"{b} AUC | Δ {b}")) + " | reference |");
                md.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---|---|", buckets.Length)) + "---|");
                var lines = new List<(string Label, string ColourKey, MeanStd[] Auc)>();
                foreach (IGrouping<string, FinishedRun> g in groups)
                {
                    FinishedRun first = g.First();
                    ResultsPage.Reference? reference = ResultsPage.ReferenceOf(first, byData, table);
                    MeanStd[] auc = [.. buckets.Select(b => MeanStd.Of(g.Select(r => Auc(r, split, b))))];
                    var cells = new List<string>();
                    for (int i = 0; i < buckets.Length; i++)
                    {
                        cells.Add(auc[i].Format());
                        cells.Add(reference is null || reference.Runs.Length == 0 ? "" : Delta(auc[i], MeanStd.Of(reference.Runs.Select(r => Auc(r, split, buckets[i])))));
                    }

                    string referenceCell = reference is null ? "" : reference.Runs.Length == 0 ? $"{reference.Label} (not run)" : reference.Label;
                    md.AppendLine(Inv, $"| {g.Key} | {g.Count()} | {string.Join(" | ", cells)} | {referenceCell} |");
                    lines.Add((g.Key, first.Spec.Backbone + " " + first.Spec.Training.VariantLabel(), auc));
                }

                md.AppendLine();
                if (split == "test" && charts is not null && lines.Any(l => l.Auc.Any(a => a.N > 0)))
                {
                    string name = ChartName(charts.PageName, byData.Key, chartSuffix);
                    string[] ticks = [.. buckets.Select(b => $"{b}\n({counts.First(c => c.Bucket == b).Samples?.ToString("N0", Inv) ?? "n/a"} samples)")];
                    Directory.CreateDirectory(charts.Folder);
                    Chart(Path.Combine(charts.Folder, name), $"Test AUC by the user's events before the sample: {byData.Key}", ticks, lines);
                    md.AppendLine(Inv, $"![test AUC by the user's events before the sample, {byData.Key}]({name})").AppendLine();
                }
            }
        }
    }

    /// <summary>"+0.0123 *": the difference of the means, starred when beyond twice its standard error; "n/a" when a side has no value.</summary>
    private static string Delta(MeanStd model, MeanStd reference)
    {
        if (model.N == 0 || reference.N == 0)
        {
            return "n/a";
        }

        string diff = (model.Mean - reference.Mean).ToString("+0.0000;-0.0000;0.0000", Inv);
        return ResultsPage.Verdict(model, reference) is "lift" or "worse" ? diff + " *" : diff;
    }

    /// <summary>One line per row group over the buckets (points where the group has a value); a LIBER row takes the colour of its backbone's row and another line pattern.</summary>
    private static void Chart(string path, string title, string[] ticks, List<(string Label, string ColourKey, MeanStd[] Auc)> lines)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        LinePattern[] patterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted, LinePattern.DenselyDashed];
        // Six markers against four patterns: a colour's first 12 lines all differ in pattern or marker.
        MarkerShape[] markers = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond, MarkerShape.OpenCircle, MarkerShape.FilledTriangleDown];
        List<string> colourKeys = [.. lines.Select(l => l.ColourKey).Distinct(StringComparer.Ordinal)];
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach ((string label, string colourKey, MeanStd[] auc) in lines)
        {
            int[] at = [.. Enumerable.Range(0, auc.Length).Where(i => auc[i].N > 0)];
            int nth = used.GetValueOrDefault(colourKey);
            used[colourKey] = nth + 1;
            if (at.Length == 0)
            {
                continue;
            }

            var s = plot.Add.Scatter(at.Select(i => (double)i).ToArray(), at.Select(i => auc[i].Mean).ToArray());
            s.LegendText = label;
            s.Color = palette.GetColor(colourKeys.IndexOf(colourKey));
            s.LinePattern = patterns[nth % patterns.Length];
            s.MarkerShape = markers[nth % markers.Length];
            s.LineWidth = 2;
            s.MarkerSize = 8;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. Enumerable.Range(0, ticks.Length).Select(i => (double)i)], ticks);
        plot.Axes.SetLimitsX(-0.3, ticks.Length - 0.7);
        plot.Title(title);
        plot.XLabel("events of the user before the sample");
        plot.YLabel("test AUC (mean over seeds)");
        plot.ShowLegend(Edge.Right);

        // The legend takes its width from the longest label; the data area, which the title is centred over, keeps about
        // 900 pixels however long the labels are (long labels used to squeeze it until the title was clipped).
        int legend = 60 + (7 * lines.Select(l => l.Label.Length).DefaultIfEmpty(0).Max());
        plot.SavePng(path, Math.Max(1200, 900 + legend), 560);
    }

    private static JsonElement? Bucket(FinishedRun run, string split, string bucket)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Result.TryGetProperty(split, out JsonElement s) && s.ValueKind == JsonValueKind.Object
            && s.TryGetProperty("buckets", out JsonElement b) && b.ValueKind == JsonValueKind.Object
            && b.TryGetProperty(bucket, out JsonElement v) && v.ValueKind == JsonValueKind.Object ? v : null;
    }

    private static long? LowerBound(string label)
    {
        int n = 0;
        while (n < label.Length && char.IsAsciiDigit(label[n]))
        {
            n++;
        }

        return n > 0 && long.TryParse(label.AsSpan(0, n), NumberStyles.None, Inv, out long v) ? v : null;
    }

    /// <summary>"movielens-100k (ml-100k)" -> "movielens-100k-ml-100k": lower case, each run of other characters one dash.</summary>
    private static string Slug(string s)
    {
        var b = new StringBuilder();
        foreach (char c in s.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                b.Append(c);
            }
            else if (b.Length > 0 && b[^1] != '-')
            {
                b.Append('-');
            }
        }

        return b.ToString().TrimEnd('-');
    }
}
