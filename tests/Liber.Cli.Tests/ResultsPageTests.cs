using System.Text.Json;
using Liber.Cli.Experiments;
using Liber.Core.Data;

namespace Liber.Cli.Tests;

public sealed class ResultsPageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-page-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A made-up train report: LIBER adds 0.02 AUC, seeds spread it by 0.001, deepfm gains nothing.</summary>
    /// <param name="untimedColdRun">Seed 1 (the run that encodes every text) records no stage times, as runs made before the stage timer.</param>
    private sealed class FixedExecutor(bool untimedColdRun = false) : IRunExecutor
    {
        public JsonElement Execute(Dataset dataset, RunSpec spec, TextWriter log)
        {
            double lift = spec.Liber is null || spec.Backbone == "deepfm" ? 0 : 0.02;
            double auc = 0.7 + lift + (spec.Seed * 0.001);
            var accounting = new Dictionary<string, long>
            {
                ["partitions"] = 40, ["llm_calls"] = 0, ["encoder_texts"] = 80, ["encoder_cache_hits"] = spec.Seed == 1 ? 0 : 80,
                ["partition_ms"] = 1200, ["uil_ms"] = 3400, ["encode_ms"] = spec.Seed == 1 ? 56000 : 10,
            };
            if (untimedColdRun && spec.Seed == 1)
            {
                accounting.Remove("partition_ms");
                accounting.Remove("uil_ms");
                accounting.Remove("encode_ms");
            }

            object? liber = spec.Liber is null ? null : new { accounting };
            return JsonSerializer.SerializeToElement(new { valid = new { auc = auc - 0.01 }, test = new { auc, logloss = 0.5, gauc = auc - 0.05 }, best_epoch = 2, seconds = 3.0, liber });
        }
    }

    /// <summary>Writes the page spec, runs <c>liber report</c> over <paramref name="root"/> into <paramref name="page"/> (it must succeed) and returns the page.</summary>
    private string Report(string root, string specJson, string page)
    {
        string spec = Path.Combine(_dir, "page.json");
        File.WriteAllText(spec, specJson);
        var (code, _, error) = CliRunner.Run("report", root, "--page", spec, "--out", page);
        Assert.True(code == 0, error);
        return File.ReadAllText(page);
    }

    private static string Experiment(string name, string backbones) =>
        $$"""
        {
          "name": "{{name}}",
          "dataset": { "kind": "synthetic", "users": 30, "events_per_user": 40 },
          "grid": { "backbones": [{{backbones}}], "liber": [false, true], "policies": [{ "policy": "count", "k": 10 }], "seeds": [1, 2, 3] }
        }
        """;

    /// <summary>
    /// Made-up lifelong buckets, written out of numeric order. Test AUC of bucket i (0-49, 50-199, 200-999, 1000+) is
    /// 0.6 + 0.05 i + 0.001 seed, plus 0.01 i with LIBER. The runs without LIBER are "old": they hold no 1000+ bucket.
    /// On the validation split the 1000+ bucket has no sample in any run.
    /// </summary>
    private sealed class BucketExecutor : IRunExecutor
    {
        public JsonElement Execute(Dataset dataset, RunSpec spec, TextWriter log)
        {
            bool liber = spec.Liber is not null;
            var test = new Dictionary<string, object>();
            var valid = new Dictionary<string, object>();
            foreach ((string label, int i) in new[] { ("1000+", 3), ("200-999", 2), ("0-49", 0), ("50-199", 1) })
            {
                if (i == 3 && !liber)
                {
                    continue;
                }

                double auc = 0.6 + (0.05 * i) + (0.001 * spec.Seed) + (liber ? 0.01 * i : 0);
                test[label] = new { auc, logloss = 0.5, gauc = auc, samples = 100 * (i + 1) };
                valid[label] = i == 3 ? new { auc = (double?)null, logloss = (double?)null, gauc = (double?)null, samples = 0 } : new { auc = (double?)auc - 0.1, logloss = (double?)0.5, gauc = (double?)auc, samples = 10 * (i + 1) };
            }

            return JsonSerializer.SerializeToElement(new { valid = new { auc = 0.6, buckets = valid }, test = new { auc = 0.7, logloss = 0.5, gauc = 0.6, buckets = test }, best_epoch = 1, seconds = 1.0 });
        }
    }

    private string Root(bool untimedColdRun = false, IRunExecutor? executor = null)
    {
        string root = Path.Combine(_dir, "runs");
        foreach ((string name, string backbones) in new[] { ("main", "\"din\", \"deepfm\""), ("copy", "\"din\"") })
        {
            string path = Path.Combine(_dir, name + ".json");
            File.WriteAllText(path, Experiment(name, backbones));
            new ExperimentRunner(ExperimentFile.Load(path), root, executor ?? new FixedExecutor(untimedColdRun), TextWriter.Null).Run();
        }

        return root;
    }

    [Fact]
    public void Verdict_compares_the_difference_with_twice_its_standard_error()
    {
        // se = sqrt(0.01^2/3 + 0.01^2/3) = 0.00816; 2 se = 0.0163.
        Assert.Equal("lift", ResultsPage.Verdict(new MeanStd(0.72, 0.01, 3), new MeanStd(0.70, 0.01, 3)));
        Assert.Equal("within seed noise", ResultsPage.Verdict(new MeanStd(0.715, 0.01, 3), new MeanStd(0.70, 0.01, 3)));
        Assert.Equal("worse", ResultsPage.Verdict(new MeanStd(0.68, 0.01, 3), new MeanStd(0.70, 0.01, 3)));
        Assert.Equal("n/a", ResultsPage.Verdict(new MeanStd(0.72, 0, 1), new MeanStd(0.70, 0.01, 3)));
    }

    [Fact]
    public void The_page_holds_each_table_from_its_runs_with_command_machine_and_folders()
    {
        string root = Root();
        string spec = Path.Combine(_dir, "page.json");
        File.WriteAllText(spec, """
            {
              "title": "Test page",
              "tables": [
                { "title": "Main", "order": ["din", "deepfm"], "sources": [ { "experiment": "main" }, { "experiment": "copy" } ], "notes": ["what was tried"] },
                { "title": "Against DIN", "baseline": "din", "sources": [ { "experiment": "main", "liber": [false] }, { "experiment": "missing" } ] },
                { "title": "Cost", "kind": "efficiency", "sources": [ { "experiment": "main", "backbones": ["din"] } ] }
              ]
            }
            """);
        string page = Path.Combine(_dir, "docs", "results.md");
        var (code, output, error) = CliRunner.Run("report", root, "--page", spec, "--out", page);
        Assert.True(code == 0, error);
        Assert.Contains("3 tables", output, StringComparison.Ordinal);
        string md = File.ReadAllText(page);

        // din: 0.701, 0.702, 0.703 -> 0.7020 ± 0.0010 (the identical runs of "copy" count once); with LIBER 0.7220:
        // RelaImpr = (0.2220 / 0.2020 - 1) x 100 = +9.90%, far beyond 2 se -> lift. deepfm gains nothing -> 0.00%, noise.
        Assert.Contains("| din | 3 | 0.7020 ± 0.0010 | 0.5000 ± 0.0000 | 0.6520 ± 0.0010 | 0.6920 ± 0.0010 |", md, StringComparison.Ordinal);
        Assert.Contains("| din + LIBER (attention, count10, two-call, template) | 3 | 0.7220 ± 0.0010 |", md, StringComparison.Ordinal);
        Assert.Contains("| din | +9.90% | lift | lift |", md, StringComparison.Ordinal);              // test and validation verdicts
        Assert.Contains("| deepfm | 0.00% | within seed noise |", md, StringComparison.Ordinal);
        Assert.True(md.IndexOf("| din |", StringComparison.Ordinal) < md.IndexOf("| deepfm |", StringComparison.Ordinal), "the table's order puts din first");

        // Against one baseline: deepfm is compared with din (0.7020): (0.2020 / 0.2020 - 1) = 0.00%.
        Assert.Contains("| deepfm | 3 | 0.7020 ± 0.0010 | 0.5000 ± 0.0000 | 0.6520 ± 0.0010 | 0.6920 ± 0.0010 | din | 0.00% | within seed noise |", md, StringComparison.Ordinal);
        Assert.Contains("**Not run yet:** `missing`", md, StringComparison.Ordinal);

        // At a glance: the two LIBER rows of the comparison tables, counted once each, before the first table.
        int glance = md.IndexOf("## At a glance", StringComparison.Ordinal);
        Assert.InRange(glance, 0, md.IndexOf("## Main", StringComparison.Ordinal));
        Assert.Contains("2 LIBER configurations", md, StringComparison.Ordinal);
        Assert.Contains("Test verdicts: 1 lift, 1 within seed noise, 0 worse. Validation verdicts: 1 lift, 1 within seed noise, 0 worse.", md, StringComparison.Ordinal);
        Assert.Contains("both the validation and the test split: din + LIBER (attention, count10, two-call, template) over din on ", md, StringComparison.Ordinal);
        Assert.Contains("(RelaImpr +9.90%).", md, StringComparison.Ordinal);
        Assert.Contains("liber run -c experiments/main.json -c experiments/copy.json", md, StringComparison.Ordinal);
        Assert.Contains("what was tried", md, StringComparison.Ordinal);
        Assert.Contains("Machine: ", md, StringComparison.Ordinal);
        foreach (string folder in Directory.GetDirectories(Path.Combine(root, "main")).Select(d => Path.GetFileName(d)!))
        {
            Assert.Contains($"`main/{folder}`", md, StringComparison.Ordinal);
        }

        // Efficiency: stage times of the cold run (seed 1 encoded all 80 texts in 56 s), actual calls, and the call estimates.
        Assert.Contains("| 40 |", md, StringComparison.Ordinal);
        Assert.Contains("| 80 / 0 | 1.2 | 3.4 | 56.0 | 3 |", md, StringComparison.Ordinal);
    }

    [Fact]
    public void An_archive_of_the_small_files_regenerates_the_same_page_and_counts_each_run_once()
    {
        string root = Root();
        string spec = Path.Combine(_dir, "page.json");
        File.WriteAllText(spec, """{ "title": "T", "tables": [ { "title": "Main", "sources": [ { "experiment": "main" } ] } ] }""");
        string archive = Path.Combine(_dir, "results");
        var (code, output, error) = CliRunner.Run("report", root, "--archive", archive);
        Assert.True(code == 0, error);
        Assert.Contains("18 runs archived", output, StringComparison.Ordinal); // main: 2 backbones x 2 x 3 seeds, copy: 6 (runs of their own experiment)
        Assert.DoesNotContain(Directory.EnumerateFiles(archive, "*", SearchOption.AllDirectories), f => !ExperimentReport.ArchivedFiles.Contains(Path.GetFileName(f)));

        // Again: nothing new. A run whose result changed is refused, naming the file.
        (code, output, error) = CliRunner.Run("report", root, "--archive", archive);
        Assert.True(code == 0, error);
        Assert.Contains("0 runs archived", output, StringComparison.Ordinal);

        string fromRuns = Path.Combine(_dir, "a.md"), fromArchive = Path.Combine(_dir, "b.md"), fromBoth = Path.Combine(_dir, "c.md");
        Assert.Equal(0, CliRunner.Run("report", root, "--page", spec, "--out", fromRuns).Code);
        Assert.Equal(0, CliRunner.Run("report", archive, "--page", spec, "--out", fromArchive).Code);
        Assert.Equal(0, CliRunner.Run("report", root, archive, "--page", spec, "--out", fromBoth).Code);
        static string Tables(string path) => string.Join('\n', File.ReadAllLines(path).Where(l => l.StartsWith('|')));
        Assert.Equal(Tables(fromRuns), Tables(fromArchive));
        Assert.Equal(Tables(fromRuns), Tables(fromBoth)); // each run once, though found twice
        Assert.Contains("| din | 3 | 0.7020 ± 0.0010 |", Tables(fromBoth), StringComparison.Ordinal);

        string someRun = Directory.GetDirectories(Path.Combine(root, "main"))[0];
        File.AppendAllText(Path.Combine(someRun, ExperimentRunner.ResultsFile), "\n");
        (code, _, error) = CliRunner.Run("report", root, "--archive", archive);
        Assert.NotEqual(0, code);
        Assert.Contains(Path.GetFileName(someRun), error, StringComparison.Ordinal);
        Assert.Contains("differs", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_baseline_with_one_variant_only_is_the_reference_of_every_variant()
    {
        string root = Path.Combine(_dir, "runs");
        foreach ((string name, string backbone, string training) in new[] { ("peer", "deepfm", "{}"), ("tuned", "din", """{ "lr": 0.002 }""") })
        {
            string path = Path.Combine(_dir, name + ".json");
            File.WriteAllText(path, $$"""
                {
                  "name": "{{name}}",
                  "dataset": { "kind": "synthetic", "users": 30, "events_per_user": 40 },
                  "training": {{training}},
                  "grid": { "backbones": ["{{backbone}}"], "liber": [false], "seeds": [1, 2, 3] }
                }
                """);
            new ExperimentRunner(ExperimentFile.Load(path), root, new FixedExecutor(), TextWriter.Null).Run();
        }

        string page = Path.Combine(_dir, "peer.md");
        string text = Report(root, """{ "title": "T", "tables": [ { "title": "Against the peer", "baseline": "deepfm", "sources": [ { "experiment": "tuned" }, { "experiment": "peer" } ] } ] }""", page);

        // din [lr0.002] (0.7020) against deepfm, which has no lr0.002 runs: its only variant is the reference.
        Assert.Contains("| din [lr0.002] | 3 | 0.7020 ± 0.0010 | 0.5000 ± 0.0000 | 0.6520 ± 0.0010 | 0.6920 ± 0.0010 | deepfm | 0.00% | within seed noise |", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Gbdt_rows_with_partition_columns_are_measured_against_the_same_trees_without_them()
    {
        string root = Path.Combine(_dir, "runs");
        string path = Path.Combine(_dir, "trees.json");
        File.WriteAllText(path, """
            {
              "name": "trees",
              "dataset": { "kind": "synthetic", "users": 30, "events_per_user": 40 },
              "grid": { "backbones": ["gbdt"], "liber": [false], "seeds": [1, 2, 3],
                        "training": [{ "stats": false }, { "stats": false, "gbdt_partitions": 20 }, { "lr": 0.002 }] }
            }
            """);
        new ExperimentRunner(ExperimentFile.Load(path), root, new PartitionsExecutor(), TextWriter.Null).Run();
        string page = Path.Combine(_dir, "trees.md");
        string text = Report(root, """{ "title": "T", "tables": [ { "title": "Trees", "sources": [ { "experiment": "trees" } ] } ] }""", page);

        // 0.7010 + 0.01 against gbdt [no-stats] (0.7020 +- 0.001 spread): (0.2120 / 0.2020 - 1) = +4.95%; the other rows are references.
        Assert.Contains("| gbdt [no-stats-partitions20] | 3 | 0.7120 ± 0.0010 | 0.5000 ± 0.0000 | 0.6620 ± 0.0010 | 0.7020 ± 0.0010 | gbdt [no-stats] | +4.95% | lift | lift |", text, StringComparison.Ordinal);
        Assert.Contains("| gbdt [no-stats] | 3 | 0.7020 ± 0.0010 | 0.5000 ± 0.0000 | 0.6520 ± 0.0010 | 0.6920 ± 0.0010 |  |  |  |  |", text, StringComparison.Ordinal);
        Assert.Contains("| gbdt [lr0.002] | 3 | 0.7020 ± 0.0010 | 0.5000 ± 0.0000 | 0.6520 ± 0.0010 | 0.6920 ± 0.0010 |  |  |  |  |", text, StringComparison.Ordinal);
        int reference = text.IndexOf("| gbdt [no-stats] |", StringComparison.Ordinal), treated = text.IndexOf("| gbdt [no-stats-partitions20] |", StringComparison.Ordinal);
        Assert.True(reference < treated && text.IndexOf("| gbdt [lr0.002] |", StringComparison.Ordinal) < reference, "each variant, then the same with partition columns");
    }

    /// <summary>As <see cref="FixedExecutor"/>, and the GBDT peer's partition columns add 0.01 AUC.</summary>
    private sealed class PartitionsExecutor : IRunExecutor
    {
        public JsonElement Execute(Dataset dataset, RunSpec spec, TextWriter log)
        {
            double auc = 0.7 + (spec.Training.GbdtPartitions is null ? 0 : 0.01) + (spec.Seed * 0.001);
            return JsonSerializer.SerializeToElement(new { valid = new { auc = auc - 0.01 }, test = new { auc, logloss = 0.5, gauc = auc - 0.05 }, best_epoch = 2, seconds = 3.0 });
        }
    }

    [Fact]
    public void Efficiency_takes_stage_times_of_timed_runs_when_the_cold_run_has_none_but_never_their_encode_time()
    {
        string root = Root(untimedColdRun: true);
        string page = Path.Combine(_dir, "results.md");
        string text = Report(root, """{ "title": "T", "tables": [ { "title": "Cost", "kind": "efficiency", "sources": [ { "experiment": "main", "backbones": ["din"] } ] } ] }""", page);

        // Partitioning and UIL from seeds 2 and 3 (1.2 s, 3.4 s); the encode time of the cold run is unknown, and the
        // cache-warm runs' 0.01 s must not stand in for it.
        Assert.Contains("| 80 / 0 | 1.2 | 3.4 | n/a | 3 |", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_takes_several_experiment_files_and_checks_all_before_running_any()
    {
        string a = Path.Combine(_dir, "a.json"), b = Path.Combine(_dir, "b.json");
        File.WriteAllText(a, Experiment("a", "\"din\""));
        File.WriteAllText(b, Experiment("b", "\"din\", \"deepfm\""));
        var (code, output, error) = CliRunner.Run("run", "-c", a, "-c", b, "--out", Path.Combine(_dir, "runs"), "--list", "--json");
        Assert.True(code == 0, error);
        JsonElement[] experiments = [.. JsonDocument.Parse(output).RootElement.GetProperty("experiments").EnumerateArray()];
        Assert.Equal(["a", "b"], experiments.Select(e => e.GetProperty("experiment").GetString()));
        Assert.Equal([6, 12], experiments.Select(e => e.GetProperty("runs").GetArrayLength()));

        // A broken second file stops the command before the first one runs.
        File.WriteAllText(b, "{ \"name\": \"b\" }");
        Assert.NotEqual(0, CliRunner.Run("run", "-c", a, "-c", b, "--out", Path.Combine(_dir, "runs2")).Code);
        Assert.False(Directory.Exists(Path.Combine(_dir, "runs2", "a")));
    }

    [Fact]
    public void Bucket_labels_go_in_the_numeric_order_of_their_lower_bound()
    {
        Assert.Equal(["0-49", "50-199", "200-999", "1000+", "other"], LifelongTable.Order(["1000+", "other", "200-999", "50-199", "0-49", "200-999"]));
    }

    private const string LifelongSpec = """
        { "title": "T", "tables": [ { "title": "Lifelong", "kind": "lifelong", "order": ["din", "deepfm"], "sources": [ { "experiment": "main" } ] } ] }
        """;

    [Fact]
    public void A_lifelong_table_gives_auc_by_bucket_and_the_difference_to_the_reference_and_draws_its_chart_beside_the_page()
    {
        string root = Root(executor: new BucketExecutor());
        string page = Path.Combine(_dir, "docs", "results.md");
        string md = Report(root, LifelongSpec, page);

        // Buckets in numeric order although the runs wrote them otherwise; the sizes from the runs.
        Assert.Contains("Test split, samples per bucket: 0-49: 100, 50-199: 200, 200-999: 300, 1000+: 400.", md, StringComparison.Ordinal);
        Assert.Contains("| model | seeds | 0-49 AUC | Δ 0-49 | 50-199 AUC | Δ 50-199 | 200-999 AUC | Δ 200-999 | 1000+ AUC | Δ 1000+ | reference |", md, StringComparison.Ordinal);

        // din (seeds 1-3): 0.602, 0.652, 0.702 ± 0.001, and no 1000+ bucket (old runs): n/a. With LIBER: +0 in bucket 0
        // (within noise), +0.01 and +0.02 beyond 2 se = 0.0016 (starred), and no difference where the reference has no value.
        Assert.Contains("| din | 3 | 0.6020 ± 0.0010 |  | 0.6520 ± 0.0010 |  | 0.7020 ± 0.0010 |  | n/a |  |  |", md, StringComparison.Ordinal);
        Assert.Contains("| din + LIBER (attention, count10, two-call, template) | 3 | 0.6020 ± 0.0010 | 0.0000 | 0.6620 ± 0.0010 | +0.0100 * | 0.7220 ± 0.0010 | +0.0200 * | 0.7820 ± 0.0010 | n/a | din |", md, StringComparison.Ordinal);
        Assert.True(md.IndexOf("| din |", StringComparison.Ordinal) < md.IndexOf("| deepfm |", StringComparison.Ordinal), "the table's order puts din first");

        // Validation: the 1000+ bucket has no sample, so it has no column; the header still gives its size.
        Assert.Contains("Validation split, samples per bucket: 0-49: 10, 50-199: 20, 200-999: 30, 1000+: 0.", md, StringComparison.Ordinal);
        Assert.Contains("| din + LIBER (attention, count10, two-call, template) | 3 | 0.5020 ± 0.0010 | 0.0000 | 0.5620 ± 0.0010 | +0.0100 * | 0.6220 ± 0.0010 | +0.0200 * | din |", md, StringComparison.Ordinal);

        // The test chart: a PNG beside the page, linked by its file name.
        string png = Path.Combine(_dir, "docs", "results-lifelong-synthetic.png");
        Assert.True(File.Exists(png), png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
        Assert.Contains("](results-lifelong-synthetic.png)", md, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "docs"), "*.png"));
    }

    [Fact]
    public void Without_a_chart_folder_a_lifelong_table_draws_and_links_no_chart()
    {
        string root = Root(executor: new BucketExecutor());
        string spec = Path.Combine(_dir, "page.json");
        File.WriteAllText(spec, LifelongSpec);
        string md = ResultsPage.Render(PageSpec.Load(spec), ExperimentReport.Collect([root]), "test");
        Assert.Contains("| din | 3 | 0.6020 ± 0.0010 |", md, StringComparison.Ordinal);
        Assert.DoesNotContain(".png", md, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir, "*.png", SearchOption.AllDirectories));
    }

    [Fact]
    public void Runs_without_buckets_get_a_line_saying_so()
    {
        string root = Root();
        string spec = Path.Combine(_dir, "page.json");
        File.WriteAllText(spec, LifelongSpec);
        string md = ResultsPage.Render(PageSpec.Load(spec), ExperimentReport.Collect([root]), "test", charts: new PageCharts(Path.Combine(_dir, "docs"), "results"));
        Assert.Contains("Test split: no run of this data set recorded buckets", md, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "docs")));
    }

    [Fact]
    public void A_bad_page_spec_is_an_error_naming_the_file()
    {
        string spec = Path.Combine(_dir, "bad.json");
        File.WriteAllText(spec, """{ "title": "x", "tables": [ { "title": "t", "kind": "pie", "sources": [ { "experiment": "a" } ] } ] }""");
        var e = Assert.Throws<ArgumentException>(() => PageSpec.Load(spec));
        Assert.Contains("bad.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("pie", e.Message, StringComparison.Ordinal);
        Assert.Contains("comparison, efficiency or lifelong", e.Message, StringComparison.Ordinal);
        File.WriteAllText(spec, """{ "title": "x", "tables": [], "extra": 1 }""");
        Assert.Throws<ArgumentException>(() => PageSpec.Load(spec));
    }
}
