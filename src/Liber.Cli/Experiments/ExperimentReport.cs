using System.Globalization;
using System.Text;
using System.Text.Json;
using Liber.Interests.Learning;
using ScottPlot;

namespace Liber.Cli.Experiments;

/// <summary>One finished run as read back from its folder.</summary>
/// <param name="Directory">The run folder.</param>
/// <param name="Spec">Its resolved configuration.</param>
/// <param name="Result">The trainer's report (the train verb's JSON).</param>
/// <param name="Environment">Its environment.json, when present.</param>
public sealed record FinishedRun(string Directory, RunSpec Spec, JsonElement Result, JsonElement? Environment)
{
    /// <summary>When the run finished (from its results file), when recorded.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>A test metric (auc, logloss, gauc), or NaN when undefined.</summary>
    public double Test(string metric) =>
        Result.TryGetProperty("test", out JsonElement t) && t.TryGetProperty(metric, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    /// <summary>A top-level number of the result, or NaN.</summary>
    public double Number(string key) =>
        Result.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    /// <summary>A LIBER accounting counter, or null.</summary>
    public long? Accounting(string key) =>
        Result.TryGetProperty("liber", out JsonElement l) && l.ValueKind == JsonValueKind.Object && l.TryGetProperty("accounting", out JsonElement a)
        && a.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    /// <summary>The row label of its group: backbone, and LIBER's axes when on.</summary>
    public string GroupLabel() => (Spec.Liber is { } l ? $"{Spec.Backbone} + LIBER ({l.Fusion}, {l.Policy.Label()}, {l.Mode}, {(l.Settings.Encoder == global::Liber.Pipeline.ChainEncoders.Stats ? "stats vector, not LLM" : l.Settings.BackendLabel())})" : Spec.Backbone)
        + (Spec.Training.VariantLabel() is { Length: > 0 } v ? $" [{v}]" : "");

    /// <summary>A validation metric (auc, logloss, gauc), or NaN when undefined.</summary>
    public double Valid(string metric) =>
        Result.TryGetProperty("valid", out JsonElement t) && t.TryGetProperty(metric, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    /// <summary>The data set label.</summary>
    public string DatasetLabel() => Spec.Dataset.Path is { } p ? $"{Spec.Dataset.Kind} ({Path.GetFileName(Path.TrimEndingDirectorySeparator(p))})" : Spec.Dataset.Kind;
}

/// <summary>Mean and sample standard deviation over seeds.</summary>
/// <param name="Mean">Mean.</param>
/// <param name="Std">Sample standard deviation (0 for one value).</param>
/// <param name="N">Values.</param>
public readonly record struct MeanStd(double Mean, double Std, int N)
{
    /// <summary>Of a set of values (NaN ignored).</summary>
    public static MeanStd Of(IEnumerable<double> values)
    {
        double[] v = [.. values.Where(double.IsFinite)];
        if (v.Length == 0)
        {
            return new MeanStd(double.NaN, double.NaN, 0);
        }

        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return new MeanStd(mean, std, v.Length);
    }

    /// <summary>"0.7712 ± 0.0012".</summary>
    public string Format(string digits = "F4") => N == 0 ? "n/a" : $"{Mean.ToString(digits, CultureInfo.InvariantCulture)} ± {Std.ToString(digits, CultureInfo.InvariantCulture)}";
}

/// <summary>
/// <c>liber report</c>: reads finished run folders and writes a Markdown report with mean ± std over seeds, the
/// relative improvement of LIBER over each backbone, and PNG charts.
/// </summary>
public static class ExperimentReport
{
    /// <summary>Every finished run under the given folders (a folder may be a run, an experiment, or a root of experiments).</summary>
    public static IReadOnlyList<FinishedRun> Collect(IEnumerable<string> folders)
    {
        var runs = new List<FinishedRun>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal); // experiment/run folder: a run found in runs/ and in an archive counts once
        foreach (string folder in folders)
        {
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"run folder {folder} does not exist");
            }

            foreach (string config in Directory.EnumerateFiles(folder, ExperimentRunner.ConfigFile, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                string dir = Path.GetDirectoryName(Path.GetFullPath(config))!;
                if (!seen.Add(dir) || !ExperimentRunner.IsFinished(dir))
                {
                    continue;
                }

                RunSpec spec = JsonSerializer.Deserialize<RunSpec>(File.ReadAllText(config), ExperimentFile.ReadOptions)
                    ?? throw new ArgumentException($"{config}: empty resolved configuration");
                string line = File.ReadLines(Path.Combine(dir, ExperimentRunner.ResultsFile)).First(l => l.Length > 0);
                using JsonDocument doc = JsonDocument.Parse(line);
                JsonElement result = doc.RootElement.GetProperty("result").Clone();
                DateTimeOffset? finished = doc.RootElement.TryGetProperty("finished_at", out JsonElement f) && f.ValueKind == JsonValueKind.String
                    && DateTimeOffset.TryParse(f.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTimeOffset at) ? at : null;
                if (!keys.Add($"{spec.Experiment}/{Path.GetFileName(dir)}"))
                {
                    continue;
                }

                string env = Path.Combine(dir, "environment.json");
                JsonElement? environment = File.Exists(env) ? JsonDocument.Parse(File.ReadAllText(env)).RootElement.Clone() : null;
                runs.Add(new FinishedRun(dir, spec, result, environment) { FinishedAt = finished });
            }
        }

        return runs;
    }

    /// <summary>The files of a run folder that a report or a page reads (never the checkpoint): results, resolved configuration, machine.</summary>
    public static IReadOnlyList<string> ArchivedFiles { get; } = [ExperimentRunner.ResultsFile, ExperimentRunner.ConfigFile, "environment.json"];

    /// <summary>
    /// Copies the small files (<see cref="ArchivedFiles"/>) of every run into <paramref name="archive"/>/&lt;experiment&gt;/&lt;run folder&gt;/,
    /// so that a page can be regenerated from a clone without the run folders (their checkpoints stay out). A run already
    /// archived with the same files is left as it is; one archived with other contents is an error naming it (a run folder's
    /// name carries the hash of its configuration, so the same name with other results is a different run of the same cell).
    /// Returns the number of runs newly archived.
    /// </summary>
    public static int Archive(IReadOnlyList<FinishedRun> runs, string archive)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentException.ThrowIfNullOrWhiteSpace(archive);
        string root = Path.GetFullPath(archive);
        int added = 0;
        foreach (FinishedRun run in runs)
        {
            string source = Path.GetFullPath(run.Directory);
            string target = Path.Combine(root, run.Spec.Experiment, Path.GetFileName(source));
            if (string.Equals(source, target, StringComparison.Ordinal))
            {
                continue; // already the archive's own copy
            }

            var files = ArchivedFiles.Where(f => File.Exists(Path.Combine(source, f))).ToList();
            if (Directory.Exists(target))
            {
                string? differs = files.FirstOrDefault(f => !File.Exists(Path.Combine(target, f)) || File.ReadAllText(Path.Combine(target, f)) != File.ReadAllText(Path.Combine(source, f)));
                if (differs is not null)
                {
                    throw new InvalidOperationException($"{Path.Combine(target, differs)} differs from {Path.Combine(source, differs)}: the archive already holds another result of run {run.Spec.Experiment}/{Path.GetFileName(source)}; remove one of them");
                }

                continue;
            }

            Directory.CreateDirectory(target);
            foreach (string f in files)
            {
                File.Copy(Path.Combine(source, f), Path.Combine(target, f));
            }

            added++;
        }

        return added;
    }

    /// <summary>A RelaImpr as "+1.23%" / "-0.45%"; a value that rounds to zero is "0.00%" (a bare custom format would print "-+0.00%" for a tiny negative).</summary>
    public static string SignedPercent(double value) => value.ToString("+0.00;-0.00;0.00", System.Globalization.CultureInfo.InvariantCulture) + "%";

    /// <summary>RelaImpr (DIN paper): ((AUC(model) - 0.5) / (AUC(base) - 0.5) - 1) x 100.</summary>
    public static double RelaImpr(double auc, double baseAuc) => ((auc - 0.5) / (baseAuc - 0.5) - 1) * 100;

    /// <summary>Writes <c>report.md</c> and its charts into <paramref name="outDir"/>; returns the Markdown.</summary>
    public static string Write(IReadOnlyList<FinishedRun> runs, string outDir, string command)
    {
        if (runs.Count == 0)
        {
            throw new ArgumentException("no finished runs found in the given folders (a finished run folder holds resolved-config.json and results.jsonl)");
        }

        Directory.CreateDirectory(outDir);
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine("# Liber experiment report").AppendLine();
        md.AppendLine(inv, $"Generated {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC by `{command}` from {runs.Count} finished runs.");
        foreach (string machine in runs.Select(Machine).Distinct(StringComparer.Ordinal))
        {
            md.AppendLine(inv, $"Machine: {machine}.");
        }

        md.AppendLine().AppendLine("AUC, LogLoss and GAUC on the test split (protocol section 8): mean ± sample standard deviation over seeds. " +
            "RelaImpr = ((AUC − 0.5) / (AUC of the same backbone and training variant without LIBER − 0.5) − 1) × 100, from the means. Valid AUC: the validation split, on which early stopping and any choice between variants are made.").AppendLine();

        foreach (IGrouping<string, FinishedRun> byData in runs.GroupBy(r => r.DatasetLabel()).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            md.AppendLine(inv, $"## {byData.Key}").AppendLine();
            md.AppendLine("| model | seeds | AUC | LogLoss | GAUC | RelaImpr (AUC) | valid AUC | train samples/s | LLM calls | prompt tokens |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
            var groups = byData.GroupBy(r => r.GroupLabel()).OrderBy(g => g.First().Spec.Backbone, StringComparer.Ordinal).ThenBy(g => g.First().Spec.Liber is null ? 0 : 1).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
            foreach (IGrouping<string, FinishedRun> g in groups)
            {
                MeanStd auc = MeanStd.Of(g.Select(r => r.Test("auc")));
                string impr = "";
                if (g.First().Spec.Liber is not null)
                {
                    string backbone = g.First().Spec.Backbone;
                    string variant = g.First().Spec.Training.VariantLabel();
                    MeanStd baseAuc = MeanStd.Of(byData.Where(r => r.Spec.Liber is null && r.Spec.Backbone == backbone && r.Spec.Training.VariantLabel() == variant).Select(r => r.Test("auc")));
                    impr = baseAuc.N == 0 ? "no baseline" : SignedPercent(RelaImpr(auc.Mean, baseAuc.Mean));
                }

                string calls = g.First().Spec.Liber is null ? "0" : Format(g.Select(r => r.Accounting("llm_calls")));
                string tokens = g.First().Spec.Liber is null ? "0" : Format(g.Select(r => r.Accounting("prompt_tokens")));
                md.AppendLine(inv, $"| {g.Key} | {auc.N} | {auc.Format()} | {MeanStd.Of(g.Select(r => r.Test("logloss"))).Format()} | {MeanStd.Of(g.Select(r => r.Test("gauc"))).Format()} | {impr} | {MeanStd.Of(g.Select(r => r.Valid("auc"))).Format()} | {MeanStd.Of(g.Select(r => r.Number("train_samples_per_second"))).Mean.ToString("N0", inv)} | {calls} | {tokens} |");
            }

            md.AppendLine();
            if (byData.FirstOrDefault(r => r.Result.TryGetProperty("attention", out JsonElement a) && a.ValueKind == JsonValueKind.Object) is { } withAttention)
            {
                JsonElement a = withAttention.Result.GetProperty("attention");
                double[] weights = [.. a.GetProperty("weights").EnumerateArray().Select(x => x.GetDouble())];
                string[] labels = [.. a.GetProperty("partitions").EnumerateArray().Select(x => $"p{x.GetInt32()}")];
                string attentionChart = $"attention-{Slug(byData.Key)}.png";
                AttentionChart(weights, labels, Path.Combine(outDir, attentionChart), $"UIF attention, user {(a.TryGetProperty("user_id", out JsonElement id) ? id.GetString() : a.GetProperty("user").GetInt32().ToString(inv))} at index {a.GetProperty("index").GetInt32()} ({withAttention.Spec.Label()})");
                md.AppendLine(inv, $"UIF attention of one test sample over its visible partitions (run {withAttention.Spec.Label()}, target {a.GetProperty("target").GetString()}):").AppendLine();
                md.AppendLine(inv, $"![attention over partitions]({attentionChart})").AppendLine();
            }

            string chart = $"auc-{Slug(byData.Key)}.png";
            AucChart(byData.ToList(), Path.Combine(outDir, chart), byData.Key);
            md.AppendLine(inv, $"![AUC by backbone, {byData.Key}]({chart})").AppendLine();
        }

        md.AppendLine("## Runs").AppendLine();
        md.AppendLine("| run | dataset | test AUC | best epoch | seconds | folder |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (FinishedRun r in runs.OrderBy(r => r.Spec.Label(), StringComparer.Ordinal))
        {
            md.AppendLine(inv, $"| {r.Spec.Label()} | {r.DatasetLabel()} | {r.Test("auc").ToString("F4", inv)} | {r.Number("best_epoch")} | {r.Number("seconds").ToString("F0", inv)} | `{Path.GetFileName(r.Directory)}` |");
        }

        string text = md.ToString();
        File.WriteAllText(Path.Combine(outDir, "report.md"), text);
        return text;
    }

    /// <summary>Grouped bars: each backbone without LIBER and with each LIBER variant, mean test AUC with std error bars.</summary>
    public static void AucChart(IReadOnlyList<FinishedRun> runs, string path, string title)
    {
        var plot = new Plot();
        Color[] palette = [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.Crimson, Colors.MediumPurple, Colors.Gold, Colors.Teal, Colors.SlateGray];
        string[] backbones = [.. runs.Select(r => r.Spec.Backbone).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        string[] variants = [.. runs.Select(Variant).Distinct(StringComparer.Ordinal).OrderBy(v => v == "without LIBER" ? "" : v, StringComparer.Ordinal)];
        var bars = new List<Bar>();
        double width = 0.8 / Math.Max(1, variants.Length);
        double lo = 1;
        for (int b = 0; b < backbones.Length; b++)
        {
            for (int v = 0; v < variants.Length; v++)
            {
                MeanStd m = MeanStd.Of(runs.Where(r => r.Spec.Backbone == backbones[b] && Variant(r) == variants[v]).Select(r => r.Test("auc")));
                if (m.N == 0)
                {
                    continue;
                }

                lo = Math.Min(lo, m.Mean - m.Std);
                bars.Add(new Bar
                {
                    Position = b - 0.4 + (width * (v + 0.5)),
                    Value = m.Mean,
                    Error = m.Std,
                    FillColor = palette[v % palette.Length],
                    Size = width * 0.9,
                });
            }
        }

        plot.Add.Bars(bars);
        for (int v = 0; v < variants.Length; v++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = variants[v], FillColor = palette[v % palette.Length] });
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. Enumerable.Range(0, backbones.Length).Select(i => (double)i)], backbones);
        plot.Axes.SetLimitsY(Math.Max(0, lo - 0.02), Math.Min(1, bars.Count == 0 ? 1 : bars.Max(b => b.Value + b.Error) + 0.02));
        plot.Title($"Test AUC by backbone: {title}");
        plot.YLabel("test AUC (mean ± std over seeds)");
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, 900, 520);
    }

    /// <summary>Cumulative LLM calls (or prompt tokens) as the event stream grows, for LIBER and the naive strategies (log10 scale).</summary>
    public static void CostChart(IReadOnlyList<CostCurve> series, string path, string title, string unit = "LLM calls")
    {
        var plot = new Plot();
        foreach ((string label, double[] events, double[] calls) in series)
        {
            var s = plot.Add.Scatter(events, [.. calls.Select(c => Math.Log10(Math.Max(1, c)))]);
            s.LegendText = label;
        }

        plot.Title(title);
        plot.XLabel("events in the stream so far");
        plot.YLabel($"log10(cumulative {unit})");
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, 900, 520);
    }

    /// <summary>Attention weights of one sample over its visible partitions.</summary>
    public static void AttentionChart(IReadOnlyList<double> weights, IReadOnlyList<string> labels, string path, string title)
    {
        var plot = new Plot();
        plot.Add.Bars([.. weights]);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. Enumerable.Range(0, labels.Count).Select(i => (double)i)], [.. labels]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel("attention weight");
        plot.SavePng(path, 900, 420);
    }

    private static string Variant(FinishedRun r) => r.Spec.Liber is { } l ? $"+LIBER {l.Fusion}, {l.Policy.Label()}, {l.Mode}" : "without LIBER";

    /// <summary>The machine a run ran on, in words (from its environment.json).</summary>
    internal static string Machine(FinishedRun r) => r.Environment is { } e
        ? $"{e.GetProperty("cpu").GetString()}, {e.GetProperty("cores").GetInt32()} cores, {e.GetProperty("memory_gib").GetDouble()} GiB, {e.GetProperty("os").GetString()}, {e.GetProperty("dotnet").GetString()}, TorchSharp {e.GetProperty("torchsharp").GetString()}"
        : "unknown";

    private static string Format(IEnumerable<long?> values)
    {
        long[] v = [.. values.Where(x => x.HasValue).Select(x => x!.Value)];
        return v.Length == 0 ? "n/a" : v.Distinct().Count() == 1 ? v[0].ToString("N0", CultureInfo.InvariantCulture) : $"{v.Min().ToString("N0", CultureInfo.InvariantCulture)}-{v.Max().ToString("N0", CultureInfo.InvariantCulture)}";
    }

    private static string Slug(string s) => new([.. s.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-')]);
}
