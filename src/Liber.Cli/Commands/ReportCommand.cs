using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Liber.Cli.Experiments;
using Liber.Core.Partitioning;
using Liber.Interests.Learning;

namespace Liber.Cli.Commands;

/// <summary><c>liber report &lt;run-dir&gt;...</c>: a Markdown report with charts from finished runs.</summary>
public static class ReportCommand
{
    /// <summary>Creates the <c>report</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("report", "write a Markdown report (mean ± std over seeds, RelaImpr of LIBER over each backbone, LLM cost) with PNG charts from finished run folders");
        var dirs = new Argument<string[]>("run-dir") { Description = "run folders, experiment folders or roots of experiments", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "folder for report.md and the charts (default: <first run-dir>/report)" };
        var noCost = new Option<bool>("--no-cost-chart") { Description = "skip the LLM-cost chart (it reloads the data sets to count partitions)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object (paths and counts) instead of the Markdown" };
        var page = new Option<string?>("--page") { Description = "a page spec (experiments/pages/*.json): write that page of tables from the runs under the run-dirs into --out (a .md file), e.g. docs/results.md, with the charts of its lifelong tables beside it" };
        var archive = new Option<string?>("--archive") { Description = "copy the small files of every finished run under the run-dirs (results.jsonl, resolved-config.json, environment.json; never checkpoints) into this folder, e.g. experiments/results, so that pages can be regenerated from a clone: liber report experiments/results --page ..." };
        var timeline = new Option<string?>("--timeline") { Description = "a user id: draw that user's partitions as category bands (and UIF's attention when the run recorded it for this user) as a PNG into --out (default <first run-dir>/report/timeline-<user>.png), offline, as the timeline page of liber serve" };
        cmd.Arguments.Add(dirs);
        foreach (Option o in new Option[] { output, noCost, json, page, archive, timeline })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(r =>
        {
            string[] folders = r.GetValue(dirs)!;
            IReadOnlyList<FinishedRun> runs = ExperimentReport.Collect(folders);
            if (r.GetValue(archive) is string archiveFolder)
            {
                int added = ExperimentReport.Archive(runs, archiveFolder);
                io.Output.WriteLine(r.GetValue(json)
                    ? JsonSerializer.Serialize(new { archive = archiveFolder, runs = runs.Count, added }, DataCommand.Json)
                    : $"{archiveFolder}: {added} runs archived, {runs.Count - added} there already ({runs.Count} finished runs found)");
                return LiberCommand.Ok;
            }

            if (r.GetValue(timeline) is string user)
            {
                string png = r.GetValue(output) ?? Path.Combine(folders[0], "report", $"timeline-{new string([.. user.Select(c => char.IsLetterOrDigit(c) ? c : '_')])}.png");
                TimelineChart.Result drawn = TimelineChart.Write(runs, user, png);
                io.Output.WriteLine(r.GetValue(json)
                    ? JsonSerializer.Serialize(new { timeline = drawn.Path, run = drawn.Run, partitions = drawn.Partitions, attention = drawn.Attention }, DataCommand.Json)
                    : $"{drawn.Path}: {drawn.Partitions} partitions of user {user}{(drawn.Attention ? ", with UIF attention" : "")} (run {drawn.Run})");
                return LiberCommand.Ok;
            }

            if (r.GetValue(page) is string pagePath)
            {
                string target = r.GetValue(output) ?? throw new ArgumentException("--page needs --out FILE.md");
                PageSpec spec = PageSpec.Load(pagePath);
                string markdown = ResultsPage.Render(spec, runs, $"liber report {string.Join(' ', folders)} --page {pagePath} --out {target}", charts: PageCharts.Beside(target));
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
                File.WriteAllText(target, markdown);
                io.Output.WriteLine(r.GetValue(json)
                    ? JsonSerializer.Serialize(new { page = target, runs = runs.Count, tables = spec.Tables.Count }, DataCommand.Json)
                    : $"{target}: {spec.Tables.Count} tables from {runs.Count} finished runs");
                return LiberCommand.Ok;
            }

            string outDir = r.GetValue(output) ?? Path.Combine(folders[0], "report");
            string text = ExperimentReport.Write(runs, outDir, "liber report " + string.Join(' ', folders));
            var charts = Directory.EnumerateFiles(outDir, "auc-*.png").Select(Path.GetFileName).ToList();
            if (!r.GetValue(noCost))
            {
                var extra = new System.Text.StringBuilder();
                foreach (var g in runs.Where(x => x.Spec.Liber is not null).GroupBy(x => (x.DatasetLabel(), x.Spec.Liber!.Policy.Label(), x.Spec.Liber!.Mode)))
                {
                    FinishedRun first = g.First();
                    var dataset = ExperimentRunner.LoadDataset(first.Spec.Dataset);
                    var costs = CostModel(dataset, first.Spec.Liber!);
                    var curves = costs.Curves(promptTokens: false);
                    string name = $"llm-calls-{Slug(g.Key.Item1)}-{g.Key.Item2}-{g.Key.Item3}.png";
                    ExperimentReport.CostChart(curves, Path.Combine(outDir, name), $"LLM calls as the stream grows: {g.Key.Item1}");
                    charts.Add(name);
                    var tokenCurves = costs.Curves(promptTokens: true);
                    string tokenName = $"prompt-tokens-{Slug(g.Key.Item1)}-{g.Key.Item2}-{g.Key.Item3}.png";
                    ExperimentReport.CostChart(tokenCurves, Path.Combine(outDir, tokenName), $"Prompt tokens as the stream grows (estimate): {g.Key.Item1}", "prompt tokens");
                    charts.Add(tokenName);
                    extra.AppendLine(CultureInfo.InvariantCulture, $"## LLM calls: {g.Key.Item1}, {g.Key.Item2}, {g.Key.Item3}").AppendLine();
                    extra.AppendLine("| strategy | calls over the whole stream | prompt tokens (estimate) |").AppendLine("|---|---|---|");
                    for (int c = 0; c < curves.Count; c++)
                    {
                        extra.AppendLine(CultureInfo.InvariantCulture, $"| {curves[c].Label} | {curves[c].Values[^1]:N0} | {tokenCurves[c].Values[^1]:N0} |");
                    }

                    extra.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"![LLM calls]({name}) ![prompt tokens]({tokenName})").AppendLine();
                }

                text += extra.ToString();
                File.WriteAllText(Path.Combine(outDir, "report.md"), text);
            }

            if (r.GetValue(json))
            {
                io.Output.WriteLine(JsonSerializer.Serialize(new { report = Path.Combine(outDir, "report.md"), runs = runs.Count, charts }, DataCommand.Json));
            }
            else
            {
                io.Output.Write(text);
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }

    /// <summary>The UIL cost model of a run's data set under its LIBER axes (policy, mode, prompt domain).</summary>
    public static LlmCostModel CostModel(Core.Data.Dataset dataset, LiberRun l) =>
        LlmCostModel.ForDataset(dataset, ToOptions(l), l.Mode == "one-call" ? LearnMode.OneCall : LearnMode.TwoCall, l.Settings.Domain);

    /// <summary>The partition options of a run's LIBER axes.</summary>
    public static PartitionOptions ToOptions(LiberRun l)
    {
        ArgumentNullException.ThrowIfNull(l);
        var d = new PartitionOptions(); // the library's defaults, for the axes the file leaves out
        return d with
        {
            Policy = l.Policy.Policy,
            K = l.Policy.K ?? d.K,
            GapSeconds = l.Policy.GapSeconds ?? d.GapSeconds,
            Period = l.Policy.Period is null ? d.Period : Enum.TryParse(l.Policy.Period, ignoreCase: true, out CalendarPeriod p) ? p : throw new ArgumentException($"policy period '{l.Policy.Period}' is not day, week or month"),
            TimeZone = l.Policy.TimeZone ?? d.TimeZone,
            DriftWindow = l.Policy.DriftWindow ?? d.DriftWindow,
            DriftThreshold = l.Policy.DriftThreshold ?? d.DriftThreshold,
            Caps = new PartitionCaps { MaxEvents = l.Settings.MaxEvents, MaxPromptTokens = l.Settings.MaxPromptTokens },
        };
    }

    private static string Slug(string s) => new([.. s.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-')]);
}
