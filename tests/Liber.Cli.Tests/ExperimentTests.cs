using System.Text.Json;
using Liber.Cli.Experiments;
using Liber.Core.Data;

namespace Liber.Cli.Tests;

public sealed class ExperimentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-exp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The external id of the synthetic grid's dense user 3 (ids are the generator's, in order).
    private static readonly string AttentionUser = Liber.Core.Synthetic.SyntheticWorld.Generate(new Liber.Core.Synthetic.SyntheticOptions { Users = 30, MeanEvents = 40 }).Dataset.Users.External(3);

    private string Write(string name, string json)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Counts the runs it is asked for and returns a made-up train report.</summary>
    private sealed class CountingExecutor : IRunExecutor
    {
        public List<string> Ran { get; } = [];

        public JsonElement Execute(Dataset dataset, RunSpec spec, TextWriter log)
        {
            Ran.Add(spec.Label());
            double auc = 0.7 + (spec.Liber is null ? 0 : 0.02) + (spec.Seed * 0.001);
            object? attention = spec.Liber is null ? null : new { user = 3, user_id = AttentionUser, index = 40, target = "an item", partitions = new[] { 0, 1, 2 }, weights = new[] { 0.2, 0.3, 0.5 } };
            return JsonSerializer.SerializeToElement(new { test = new { auc, logloss = 0.5, gauc = auc - 0.05 }, best_epoch = 1, seconds = 1.0, train_samples_per_second = 100.0, attention });
        }
    }

    private const string Grid = """
        {
          "name": "grid",
          "dataset": { "kind": "synthetic", "users": 30, "events_per_user": 40 },
          "training": { "epochs": 1 },
          "grid": {
            "backbones": ["din", "deepfm"],
            "liber": [false, true],
            "fusions": ["attention", "mean"],
            "policies": [{ "policy": "count", "k": 10 }, { "policy": "gap", "gap_seconds": 600 }],
            "seeds": [1, 2]
          }
        }
        """;

    [Fact]
    public void Unknown_keys_and_bad_values_are_errors_naming_the_path()
    {
        var e = Assert.Throws<ArgumentException>(() => ExperimentFile.Load(Write("a.json", """{"name":"a","dataset":{"kind":"synthetic"},"grid":{"backbones":["din"],"sedes":[1]}}""")));
        Assert.Contains("$.grid.sedes", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => ExperimentFile.Load(Write("b.json", """{"name":"b","dataset":{"kind":"synthetic"},"grid":{"modes":["three-call"]}}""")));
        Assert.Contains("grid.modes", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => ExperimentFile.Load(Write("c.json", """{"name":"c","grid":{}}""")));
        Assert.Contains("dataset", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, CliRunner.Run("run", "--config", Write("d.json", """{"name":"d","dataset":{"kind":"synthetic"},"grid":{},"extra":true}""")).Code);
    }

    [Fact]
    public void The_training_embeds_the_backbone_options_record_and_the_shorthands_apply_over_it()
    {
        string json = Grid.Replace("\"training\": { \"epochs\": 1 }", "\"training\": { \"epochs\": 1, \"backbone\": { \"embedding_size\": 16, \"hidden\": [64], \"cross_layers\": 2, \"dropout\": 0.3, \"stats\": false } }", StringComparison.Ordinal);
        Assert.NotEqual(Grid, json);
        ExperimentFile file = ExperimentFile.Load(Write("bb.json", json));
        Liber.Models.Backbones.BackboneOptions o = file.Training.BackboneOptions();
        Assert.Equal((16, 2, 0.3, false), (o.EmbeddingSize, o.CrossLayers, o.Dropout, o.Stats));
        Assert.Equal([64], o.Hidden);

        // A grid variant's dropout or statistics wins over the record's; the record is part of the run's identity.
        Liber.Models.Backbones.BackboneOptions v = new TrainingVariant { Dropout = 0.1, Stats = true }.Apply(file.Training).BackboneOptions();
        Assert.Equal((16, 0.1, true), (v.EmbeddingSize, v.Dropout, v.Stats));
        RunSpec cell = new ExperimentRunner(file, "runs", new CountingExecutor(), TextWriter.Null).Cells()[0];
        Assert.Contains("\"embedding_size\":16", cell.CanonicalJson(), StringComparison.Ordinal);
        Assert.NotEqual(cell.Hash(), new ExperimentRunner(ExperimentFile.Load(Write("plain.json", Grid)), "runs", new CountingExecutor(), TextWriter.Null).Cells()[0].Hash());

        // The record is read strictly and checked: an unknown key names its path, a bad value its key.
        var e = Assert.Throws<ArgumentException>(() => ExperimentFile.Load(Write("bb2.json", json.Replace("\"cross_layers\"", "\"cros_layers\"", StringComparison.Ordinal))));
        Assert.Contains("$.training.backbone.cros_layers", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => ExperimentFile.Load(Write("bb3.json", json.Replace("\"embedding_size\": 16", "\"embedding_size\": 0", StringComparison.Ordinal))));
        Assert.Contains("training.backbone", e.Message, StringComparison.Ordinal);
        Assert.Contains("embedding_size", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_grid_expands_to_distinct_runs_with_stable_content_hashes()
    {
        ExperimentFile file = ExperimentFile.Load(Write("grid.json", Grid));
        var runner = new ExperimentRunner(file, Path.Combine(_dir, "runs"), new CountingExecutor(), TextWriter.Null);
        IReadOnlyList<RunSpec> cells = runner.Cells();

        // Per backbone: 2 seeds without LIBER (its axes do not multiply it) + 2 fusions x 2 policies x 1 mode x 2 seeds.
        Assert.Equal(2 * (2 + 8), cells.Count);
        Assert.Equal(cells.Count, cells.Select(c => c.Hash()).Distinct().Count());
        Assert.Equal(cells.Select(c => c.Hash()), new ExperimentRunner(ExperimentFile.Load(Write("grid2.json", Grid)), "elsewhere", new CountingExecutor(), TextWriter.Null).Cells().Select(c => c.Hash()));
        Assert.NotEqual(cells[0].Hash(), (cells[0] with { Seed = 99 }).Hash());
        Assert.Contains(cells, c => c.Label() == "deepfm+liber-mean-gap600s-two-call-s2");

        // The template writer's wording, when not the default, shows in the label (and so in report rows) and the hash.
        string v2 = Grid.Replace("\"training\": { \"epochs\": 1 },", "\"training\": { \"epochs\": 1 }, \"liber\": { \"template_version\": \"template-v2\" },", StringComparison.Ordinal);
        IReadOnlyList<RunSpec> v2Cells = new ExperimentRunner(ExperimentFile.Load(Write("v2.json", v2)), "runs", new CountingExecutor(), TextWriter.Null).Cells();
        Assert.Contains(v2Cells, c => c.Label() == "deepfm+liber-mean-gap600s-two-call-template-v2-s2");
        Assert.Contains(v2Cells, c => c.Label() == "din-s1");
        Assert.Empty(v2Cells.Where(c => c.Liber is not null).Select(c => c.Hash()).Intersect(cells.Select(c => c.Hash())));

        // The stats encoder (no LLM, no text) shows as such in labels and hashes.
        string statsEncoder = Grid.Replace("\"training\": { \"epochs\": 1 },", "\"training\": { \"epochs\": 1 }, \"liber\": { \"encoder\": \"stats\" },", StringComparison.Ordinal);
        IReadOnlyList<RunSpec> statsCells = new ExperimentRunner(ExperimentFile.Load(Write("stats-encoder.json", statsEncoder)), "runs", new CountingExecutor(), TextWriter.Null).Cells();
        Assert.Contains(statsCells, c => c.Label() == "deepfm+liber-mean-gap600s-two-call-stats-vector-s2");
        Assert.Empty(statsCells.Where(c => c.Liber is not null).Select(c => c.Hash()).Intersect(cells.Select(c => c.Hash())));
    }

    [Fact]
    public void Training_variants_multiply_the_grid_and_leave_default_hashes_alone()
    {
        IReadOnlyList<RunSpec> plain = new ExperimentRunner(ExperimentFile.Load(Write("plain.json", Grid)), "runs", new CountingExecutor(), TextWriter.Null).Cells();
        string withVariants = Grid.Replace("\"seeds\": [1, 2]", "\"seeds\": [1, 2], \"training\": [{}, { \"lr\": 0.0003 }, { \"weight_decay\": 0.01, \"dropout\": 0.2 }]", StringComparison.Ordinal);
        IReadOnlyList<RunSpec> cells = new ExperimentRunner(ExperimentFile.Load(Write("variants.json", withVariants)), "runs", new CountingExecutor(), TextWriter.Null).Cells();

        Assert.Equal(3 * plain.Count, cells.Count);
        Assert.Equal(cells.Count, cells.Select(c => c.Hash()).Distinct().Count());

        // The empty variant is the experiment's own training: the same runs, hashes and labels as without variants,
        // and a dropout of 0 is not written into the resolved config (older run folders keep their hashes).
        Assert.Subset(cells.Select(c => c.FolderName()).ToHashSet(), plain.Select(c => c.FolderName()).ToHashSet());
        Assert.DoesNotContain("dropout", plain[0].CanonicalJson(), StringComparison.Ordinal);
        Assert.Contains(cells, c => c.Label() == "din-lr0.0003-s1");
        Assert.Contains(cells, c => c.Label() == "deepfm+liber-mean-gap600s-two-call-wd0.01-do0.2-s2");
        RunSpec dropout = cells.First(c => c.Training.Dropout > 0);
        Assert.Contains("\"dropout\":0.2", dropout.CanonicalJson(), StringComparison.Ordinal);

        Assert.DoesNotContain("user_id", plain[0].CanonicalJson(), StringComparison.Ordinal);
        RunSpec noUser = new ExperimentRunner(ExperimentFile.Load(Write("nouid.json", Grid.Replace("\"seeds\": [1, 2]", "\"seeds\": [1, 2], \"training\": [{ \"user_id\": false }]", StringComparison.Ordinal))), "runs", new CountingExecutor(), TextWriter.Null).Cells()[0];
        Assert.Equal("din-no-user-id-s1", noUser.Label());
        Assert.Contains("\"user_id\":false", noUser.CanonicalJson(), StringComparison.Ordinal);

        var e = Assert.Throws<ArgumentException>(() => ExperimentFile.Load(Write("bad.json", Grid.Replace("\"seeds\": [1, 2]", "\"seeds\": [1, 2], \"training\": [{ \"dropout\": 1.5 }]", StringComparison.Ordinal))));
        Assert.Contains("grid.training[0]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_finished_run_is_not_repeated_and_an_interrupted_grid_resumes()
    {
        ExperimentFile file = ExperimentFile.Load(Write("grid.json", Grid));
        string root = Path.Combine(_dir, "runs");
        var first = new CountingExecutor();
        GridOutcome o1 = new ExperimentRunner(file, root, first, TextWriter.Null).Run();
        Assert.Equal((20, 20, 0), (o1.Runs, o1.Executed, o1.Reused));

        // Interrupt: one run lost its results (as if killed before the atomic move), another left only its config.
        string[] dirs = Directory.GetDirectories(o1.Directory).Order(StringComparer.Ordinal).ToArray();
        File.Delete(Path.Combine(dirs[3], ExperimentRunner.ResultsFile));
        File.Delete(Path.Combine(dirs[7], ExperimentRunner.ResultsFile));
        var second = new CountingExecutor();
        GridOutcome o2 = new ExperimentRunner(file, root, second, TextWriter.Null).Run();
        Assert.Equal((20, 2, 18), (o2.Runs, o2.Executed, o2.Reused));
        Assert.Equal(2, second.Ran.Count);

        foreach (string d in dirs)
        {
            foreach (string f in new[] { "resolved-config.json", "environment.json", "results.jsonl", "log.txt" })
            {
                Assert.True(File.Exists(Path.Combine(d, f)), $"{d} lacks {f}");
            }
        }

        JsonElement env = JsonDocument.Parse(File.ReadAllText(Path.Combine(dirs[0], "environment.json"))).RootElement;
        Assert.True(env.GetProperty("cores").GetInt32() > 0);
        Assert.False(string.IsNullOrEmpty(env.GetProperty("torchsharp").GetString()));
    }

    [Fact]
    public void A_run_whose_lock_another_runner_holds_is_left_to_it_and_run_later()
    {
        ExperimentFile file = ExperimentFile.Load(Write("grid.json", Grid));
        string root = Path.Combine(_dir, "runs");
        var runner = new ExperimentRunner(file, root, new CountingExecutor(), TextWriter.Null);
        RunSpec busyCell = runner.Cells()[2];
        string busyDir = Path.Combine(runner.Directory, busyCell.FolderName());
        Directory.CreateDirectory(busyDir);
        var log = new StringWriter();
        var first = new CountingExecutor();
        using (FileStream? held = ExperimentRunner.TryLock(busyDir))
        {
            Assert.NotNull(held);
            Assert.Null(ExperimentRunner.TryLock(busyDir));                  // a second taker is refused
            Assert.True(ExperimentRunner.IsRunning(busyDir));
            GridOutcome o = new ExperimentRunner(file, root, first, log).Run();
            Assert.Equal((20, 19, 0, 1), (o.Runs, o.Executed, o.Reused, o.Busy));
            Assert.DoesNotContain(busyCell.Label(), first.Ran);
            Assert.False(ExperimentRunner.IsFinished(busyDir));
            Assert.Contains($"{busyCell.Label()}: another process is running it", log.ToString(), StringComparison.Ordinal);
        }

        // Released (the holder's process ended): the lock file is gone, no finished folder keeps one, the cell runs.
        Assert.False(ExperimentRunner.IsRunning(busyDir));
        Assert.Empty(Directory.GetFiles(runner.Directory, ExperimentRunner.LockFile, SearchOption.AllDirectories));
        var second = new CountingExecutor();
        GridOutcome again = new ExperimentRunner(file, root, second, TextWriter.Null).Run();
        Assert.Equal((20, 1, 19, 0), (again.Runs, again.Executed, again.Reused, again.Busy));
        Assert.Equal([busyCell.Label()], second.Ran);
    }

    [Fact]
    public void The_timeline_of_one_user_is_drawn_from_a_run_folder()
    {
        ExperimentFile file = ExperimentFile.Load(Write("grid.json", Grid));
        GridOutcome o = new ExperimentRunner(file, Path.Combine(_dir, "runs"), new CountingExecutor(), TextWriter.Null).Run();
        string png = Path.Combine(_dir, "timeline.png");
        var (code, output, error) = CliRunner.Run("report", o.Directory, "--timeline", AttentionUser, "--out", png, "--json");
        Assert.True(code == 0, error);
        JsonElement j = JsonDocument.Parse(output).RootElement;
        Assert.True(j.GetProperty("partitions").GetInt32() >= 1);
        Assert.True(j.GetProperty("attention").GetBoolean());
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.True(bytes.Length > 5000);

        (code, _, error) = CliRunner.Run("report", o.Directory, "--timeline", "no-such-user", "--out", png);
        Assert.Equal(1, code);
        Assert.Contains("--timeline no-such-user: no such user", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_report_aggregates_seeds_and_computes_relaimpr()
    {
        ExperimentFile file = ExperimentFile.Load(Write("grid.json", Grid));
        GridOutcome o = new ExperimentRunner(file, Path.Combine(_dir, "runs"), new CountingExecutor(), TextWriter.Null).Run();
        var (code, output, error) = CliRunner.Run("report", o.Directory, "--out", Path.Combine(_dir, "rep"), "--no-cost-chart");
        Assert.True(code == 0, error);

        // din without LIBER: AUC 0.701 and 0.702 -> 0.7015 ± 0.0007; with LIBER 0.7215: RelaImpr = (0.2215 / 0.2015 - 1) x 100 = +9.93%.
        Assert.Contains("| din | 2 | 0.7015 ± 0.0007 |", output, StringComparison.Ordinal);
        Assert.Contains("+9.93%", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "rep", "report.md")));
        byte[] png = File.ReadAllBytes(Path.Combine(_dir, "rep", "auc-synthetic.png"));
        Assert.True(png.Length > 1000);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        Assert.True(new FileInfo(Path.Combine(_dir, "rep", "attention-synthetic.png")).Length > 1000);
        Assert.Contains("UIF attention of one test sample", output, StringComparison.Ordinal);
        Approx.Equal(9.92556, ExperimentReport.RelaImpr(0.7215, 0.7015), abs: 1e-4); // (0.2215 / 0.2015 - 1) x 100
        Assert.Equal(["+9.93%", "-0.45%", "0.00%", "0.00%"], new[] { 9.92556, -0.449, -0.001, 0.0 }.Select(ExperimentReport.SignedPercent));
    }

    [Fact]
    public void A_real_grid_trains_once_and_is_not_repeated()
    {
        string path = Write("real.json", """
            { "name": "real", "dataset": { "kind": "synthetic", "users": 40, "events_per_user": 40 },
              "training": { "epochs": 1, "batch_size": 128 },
              "grid": { "backbones": ["deepfm"], "liber": [false], "seeds": [1] } }
            """);
        string root = Path.Combine(_dir, "runs");
        var (code, output, error) = CliRunner.Run("run", "--config", path, "--out", root, "--json");
        Assert.True(code == 0, error);
        Assert.Equal(1, JsonDocument.Parse(output).RootElement.GetProperty("executed").GetInt32());
        Assert.Equal(0, JsonDocument.Parse(CliRunner.Run("run", "--config", path, "--out", root, "--json").Out).RootElement.GetProperty("executed").GetInt32());
        string results = Directory.GetFiles(Path.Combine(root, "real"), "results.jsonl", SearchOption.AllDirectories).Single();
        JsonElement r = JsonDocument.Parse(File.ReadAllLines(results)[0]).RootElement.GetProperty("result");
        Assert.InRange(r.GetProperty("test").GetProperty("auc").GetDouble(), 0, 1);
    }

    [Fact]
    public void The_checked_in_experiment_files_are_valid()
    {
        DirectoryInfo? root = new(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Liber.slnx")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        string[] files = Directory.GetFiles(Path.Combine(root.FullName, "experiments"), "*.json");
        Assert.NotEmpty(files);
        foreach (string f in files)
        {
            ExperimentFile e = ExperimentFile.Load(f);
            Assert.Equal(Path.GetFileNameWithoutExtension(f), e.Name);
            Assert.NotEmpty(new ExperimentRunner(e, "runs", new CountingExecutor(), TextWriter.Null).Cells());
        }
    }
}
