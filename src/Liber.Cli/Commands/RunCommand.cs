using System.CommandLine;
using System.Text.Json;
using Liber.Cli.Experiments;
using Liber.Pipeline;

namespace Liber.Cli.Commands;

/// <summary><c>liber run --config experiments/&lt;name&gt;.json</c>: runs an experiment grid, resuming where it stopped.</summary>
public static class RunCommand
{
    /// <summary>
    /// The executor of grid cells: the trainer, with LIBER's chain (UBSP -> UIL -> encoder) for cells with LIBER on.
    /// UIL answers and embeddings are cached in <paramref name="cacheDirectory"/> (the output root), so seeds, variants and
    /// experiments share their texts and vectors (caches never change results: they are keyed by content).
    /// </summary>
    public static IRunExecutor Executor(string cacheDirectory) => new TrainingExecutor((spec, log) =>
    {
        LiberRun l = spec.Liber!;
        LiberSpec s = l.Settings;
        string kind = spec.Dataset.Kind;
        var backend = LlmBackend.Create(s.Backend, s.Endpoint, s.Model, null, s.Gguf, 1, TimeSpan.FromSeconds(120));
        var learn = new Liber.Interests.Learning.LearnOptions
        {
            Mode = l.Mode == "one-call" ? Liber.Interests.Learning.LearnMode.OneCall : Liber.Interests.Learning.LearnMode.TwoCall,
            Domain = s.Domain ?? Liber.Interests.Prompts.PromptTemplates.DomainFor(kind),
            MaxInFlight = s.MaxInFlight,
            TemplateVersion = s.TemplateVersion ?? Liber.Interests.Template.TemplateInterestWriter.Version,
        };
        learn.Validate();
        return Pipeline.LiberVectorSource.For(
            new Pipeline.LiberPipelineOptions
            {
                Partition = ReportCommand.ToOptions(l),
                Learn = learn,
                LlmCache = Path.Combine(cacheDirectory, "llm-cache.db"),
                Encoder = s.Encoder,
                EmbeddingCache = Path.Combine(cacheDirectory, "embedding-cache.db"),
                Variant = Liber.Models.Fusion.FusionVariant.Parse(l.Fusion),
            },
            backend,
            log,
            ownsBackend: true);
    });

    /// <summary>Creates the <c>run</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("run", "run an experiment file: a grid over backbones, LIBER on/off, fusion variants, policies, modes and seeds; each run in its own folder named by a content hash of its resolved config; finished runs are not repeated");
        var config = new Option<string[]>("--config", "-c") { Description = "experiment file (JSON; unknown keys are errors); repeat it to run several experiments one after the other (all are checked before any runs)", Required = true, Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "output root; runs land in <out>/<experiment name>/<label>-<hash>/", DefaultValueFactory = _ => "runs" };
        var list = new Option<bool>("--list") { Description = "print the grid's runs and whether each is finished, run nothing" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { config, output, list, json })
        {
            cmd.Options.Add(o);
        }

        // The training flags of liber train, as overrides: a flag given wins over the file and its grid's training variants.
        var training = new TrainingFlags();
        training.AddTo(cmd);

        cmd.SetAction(r =>
        {
            // Every cell of every file, data set folders included, is checked before the first run (and for --list).
            training.Validate(r);
            ExperimentFile[] files = [.. r.GetValue(config)!.Select(p => ExperimentFile.Load(p, checkFiles: true))];
            if (training.AnyGiven(r))
            {
                files = [.. files.Select(f => f with { Overrides = spec => training.Apply(r, spec) })];
            }

            string root = r.GetValue(output)!;
            bool asJson = r.GetValue(json);
            CommandIo progress = asJson ? io with { Output = io.Error } : io;
            var objects = new List<object>();
            foreach (ExperimentFile file in files)
            {
                objects.Add(RunOne(file, root, r.GetValue(list), asJson, io, progress));
            }

            if (asJson)
            {
                io.Output.WriteLine(JsonSerializer.Serialize(objects.Count == 1 ? objects[0] : new { experiments = objects }, DataCommand.Json));
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }

    private static object RunOne(ExperimentFile file, string root, bool listOnly, bool asJson, CommandIo io, CommandIo progress)
    {
        if (listOnly)
        {
            var runner = new ExperimentRunner(file, root, Executor(root), TextWriter.Null);
            var cells = runner.Cells().Select(c => new
            {
                label = c.Label(),
                hash = c.Hash(),
                directory = Path.Combine(runner.Directory, c.FolderName()),
                finished = ExperimentRunner.IsFinished(Path.Combine(runner.Directory, c.FolderName())),
                running = ExperimentRunner.IsRunning(Path.Combine(runner.Directory, c.FolderName())),
            }).ToList();
            if (!asJson)
            {
                foreach (var c in cells)
                {
                    io.Output.WriteLine($"{(c.finished ? "done   " : c.running ? "running" : "pending")} {c.label} {c.directory}");
                }
            }

            return new { experiment = file.Name, runs = cells };
        }

        GridOutcome outcome = ConsoleProgress.Run(progress, file.Name, new ExperimentRunner(file, root, Executor(root), TextWriter.Null).Cells().Count, step =>
            new ExperimentRunner(file, root, Executor(root), step.Log) { CellDone = (k, n, label) => step.Report(k, $"{k}/{n} runs done ({label})") }.Run());
        if (!asJson)
        {
            io.Output.WriteLine($"{file.Name}: {outcome.Runs} runs, {outcome.Executed} run now, {outcome.Reused} finished earlier{(outcome.Busy > 0 ? $", {outcome.Busy} left to another process running them (run again when it is done)" : "")}; results under {outcome.Directory}");
            io.Output.WriteLine($"report: liber report {outcome.Directory}");
        }

        return new { experiment = file.Name, runs = outcome.Runs, executed = outcome.Executed, reused = outcome.Reused, busy = outcome.Busy, directory = outcome.Directory };
    }
}
