using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Liber.Cli.Experiments;
using Liber.Core.Partitioning;
using Liber.Core.Readers;
using Liber.Core.Streams;
using Liber.Interests;
using Liber.Interests.Learning;
using Liber.Interests.Prompts;
using Liber.Models.Training;
using Liber.Pipeline;

namespace Liber.Cli.Commands;

/// <summary>
/// <c>liber demo</c>: the whole LIBER pipeline on the embedded synthetic world, offline: UBSP partitions, UIL texts
/// (template backend, or a real LLM server with --endpoint/--model), MiniLM encodings, DIN with and without LIBER,
/// and a report (metrics, LLM-call savings, one user's partitions with summaries, shifts and attention weights).
/// </summary>
public static class DemoCommand
{
    /// <summary>Creates the <c>demo</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var demo = new Command("demo", "run the whole LIBER pipeline on the embedded synthetic world and write a report (offline by default; --backend openai --endpoint URL --model NAME uses a real LLM server)");
        var outDir = new Option<string>("--out") { Description = "report folder", DefaultValueFactory = _ => "liber-demo" };
        var users = new Option<int>("--users") { Description = "synthetic users", DefaultValueFactory = _ => 150 };
        var events = new Option<int>("--events-per-user") { Description = "synthetic mean events per user", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "world and training seed", DefaultValueFactory = _ => 42 };
        var epochs = new Option<int>("--epochs") { Description = "most training epochs", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "torch threads", DefaultValueFactory = _ => 2 };
        var backbone = new Option<string>("--backbone") { Description = "backbone", DefaultValueFactory = _ => "din" };
        backbone.AcceptOnlyFromAmong([.. Liber.Models.Backbones.BackboneCatalog.Names]);
        var llm = new LlmOptions();
        llm.AddTo(demo);
        var po = new PartitionCommand.PolicyOptions();
        po.AddTo(demo);
        var json = new Option<bool>("--json") { Description = "print results.json (metrics, LLM cost, timing) instead of progress lines" };
        foreach (Option o in new Option[] { outDir, users, events, seed, epochs, threads, backbone, json })
        {
            demo.Options.Add(o);
        }

        demo.SetAction(r =>
        {
            FlagChecks.AtLeast(r, users, 1);
            FlagChecks.AtLeast(r, events, 1);
            FlagChecks.AtLeast(r, epochs, 1);
            FlagChecks.AtLeast(r, threads, 1);
            po.Validate(r);
            llm.Validate(r);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            bool asJson = r.GetValue(json);
            TextWriter stdout = io.Output;
            CommandIo log = asJson ? io with { Output = io.Error } : io;
            string dir = r.GetValue(outDir) ?? "liber-demo";
            Directory.CreateDirectory(dir);
            var dataset = DatasetReaders.Load("synthetic", new DatasetRequest(null) { Synthetic = new() { Users = r.GetValue(users), MeanEvents = r.GetValue(events), Seed = r.GetValue(seed) } });
            var streams = UserStreams.Build(dataset);
            var samples = SampleSet.Build(streams);
            var stats = DatasetStats.Of(samples);
            DataCommand.WriteTable(log.Output, stats);
            File.WriteAllText(Path.Combine(dir, "dataset-stats.json"), JsonSerializer.Serialize(stats, DataCommand.Json));

            PartitionOptions popts = po.Read(r);
            var features = ItemFeatures.Build(dataset, new Cl100kTokenCounter());
            var set = PartitionSet.Build(streams, PartitionPolicies.Create(popts), popts.Caps, features);
            var partitions = PartitionSummary.Of(streams, set, 0);
            File.WriteAllText(Path.Combine(dir, "partitions.json"), JsonSerializer.Serialize(partitions, DataCommand.Json));
            log.Output.WriteLine($"UBSP {partitions.Policy}: {partitions.Partitions:N0} partitions, {partitions.EventsInCaches:N0} events still in short-term caches.");

            LearnOptions learn = llm.ReadLearnOptions(r, dataset.Kind);
            using LlmBackend backend = llm.CreateBackend(r);
            var run = new RunOptions
            {
                Backbone = r.GetValue(backbone)!,
                Threads = r.GetValue(threads),
                Training = new TrainOptions { Epochs = r.GetValue(epochs), Seed = r.GetValue(seed) },
            };
            AttentionProbe? attention = null;
            LiberVectorSource? source = null;
            int total = run.Training.Epochs * 2;
            (RunOutcome plain, RunOutcome fused) = ConsoleProgress.Run(log, "demo", total, step =>
            {
                void Epoch(string name, int offset, EpochRecord e) => step.Report(offset + e.Epoch, string.Create(CultureInfo.InvariantCulture, $"{name} epoch {e.Epoch}: loss {e.TrainLoss:F4}, valid AUC {e.Valid.Auc:F4}, {e.SamplesPerSecond:N0} samples/s"));
                source = LiberVectorSource.For(
                    new LiberPipelineOptions
                    {
                        Partition = popts,
                        Learn = learn,
                        LlmCache = r.GetValue(llm.Cache) ?? Path.Combine(dir, "llm-cache.db"),
                        EmbeddingCache = Path.Combine(dir, "embedding-cache.db"),
                    },
                    backend,
                    step.Log);
                step.Log.WriteLine($"training {run.Backbone} without LIBER ...");
                RunOutcome p = TrainingRun.Execute(dataset, run, null, e => Epoch(run.Backbone, 0, e));
                step.Log.WriteLine($"training {run.Backbone} with LIBER (UBSP -> UIL {backend.Backend.Name} -> MiniLM -> UIF attention) ...");
                RunOutcome f = TrainingRun.Execute(dataset, run, source, e => Epoch(run.Backbone + "+liber", run.Training.Epochs, e), (model, collator) => attention = AttentionProbe.Pick(model, collator, samples, source!.Partitions!));
                return (p, f);
            });

            InterestTextsFile.Write(Path.Combine(dir, "interests.jsonl"), source!.Texts!, dataset.Users);
            var estimate = EfficiencyEstimate.Compute(streams, source!.Partitions!, new PromptRenderer(streams, PromptTemplates.Load(learn.Domain)), new Cl100kTokenCounter(), learn.Mode);
            var results = new
            {
                machine = BenchCommand.Machine(),
                dataset = dataset.Source,
                backbone = TrainReport.Of(plain, dataset.Kind, run),
                liber = TrainReport.Of(fused, dataset.Kind, run),
                efficiency = new
                {
                    partitions = estimate.Partitions,
                    liber_calls = estimate.LiberCalls,
                    liber_prompt_tokens = estimate.LiberPromptTokens,
                    naive_per_event_calls = estimate.NaivePerEventCalls,
                    naive_per_event_prompt_tokens = estimate.NaivePerEventPromptTokens,
                    per_user_calls = estimate.PerUserCalls,
                    per_user_prompt_tokens = estimate.PerUserPromptTokens,
                },
                seconds = Math.Round(sw.Elapsed.TotalSeconds, 1),
            };
            string resultsJson = JsonSerializer.Serialize(results, DataCommand.Json);
            File.WriteAllText(Path.Combine(dir, "results.json"), resultsJson);

            string report = Report(dir, results.backbone, results.liber, estimate, backend.Backend.Name, source, attention, sw.Elapsed.TotalSeconds, dataset.Source);
            File.WriteAllText(Path.Combine(dir, "report.md"), report);
            log.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{run.Backbone}: test AUC {results.backbone.Test.Auc:F4}; {run.Backbone}+LIBER: test AUC {results.liber.Test.Auc:F4} (GAUC {results.backbone.Test.Gauc:F4} -> {results.liber.Test.Gauc:F4})"));
            log.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"LLM calls: LIBER {estimate.LiberCalls:N0} vs {estimate.NaivePerEventCalls:N0} re-summarising at every event ({(double)estimate.NaivePerEventCalls / Math.Max(1, estimate.LiberCalls):F1}x fewer)"));
            log.Output.WriteLine($"Done in {sw.Elapsed.TotalSeconds:F0} s; report in {Path.Combine(dir, "report.md")}");
            if (asJson)
            {
                stdout.WriteLine(resultsJson);
            }

            return LiberCommand.Ok;
        });
        return demo;
    }

    private static string Report(string dir, TrainReport plain, TrainReport fused, EfficiencyEstimate e, string backendName, LiberVectorSource source, AttentionProbe? attention, double seconds, string dataset)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# Liber demo").AppendLine();
        md.AppendLine(inv, $"Data: {dataset}. Machine: {BenchCommand.Machine()}. Wall time {seconds:F0} s. Interest texts by the **{backendName}** backend{(backendName == "template" ? " (the offline statistics writer, no LLM)" : "")}; encoder MiniLM (all-MiniLM-L6-v2, 384-d).").AppendLine();
        md.AppendLine("## CTR on the test split").AppendLine();
        md.AppendLine("| model | AUC | LogLoss | GAUC | best epoch | train samples/s |").AppendLine("|---|---|---|---|---|---|");
        foreach (TrainReport t in new[] { plain, fused })
        {
            md.AppendLine(inv, $"| {t.Backbone} | {t.Test.Auc:F4} | {t.Test.LogLoss:F4} | {t.Test.Gauc:F4} | {t.BestEpoch} | {t.TrainSamplesPerSecond:N0} |");
        }

        if (plain.Test.Auc is double a && fused.Test.Auc is double b)
        {
            md.AppendLine().AppendLine(inv, $"RelaImpr of LIBER: {ExperimentReport.RelaImpr(b, a):+0.00;-0.00}% (one seed; `liber run` gives mean ± std over seeds).");
        }

        md.AppendLine().AppendLine("## LLM cost").AppendLine();
        md.AppendLine("| strategy | LLM calls | prompt tokens |").AppendLine("|---|---|---|");
        md.AppendLine(inv, $"| LIBER (per closed partition, cascade) | {e.LiberCalls:N0} | {e.LiberPromptTokens:N0} |");
        md.AppendLine(inv, $"| re-summarise the whole history at every event | {e.NaivePerEventCalls:N0} | {e.NaivePerEventPromptTokens:N0} |");
        md.AppendLine(inv, $"| one summary per user (whole history, truncated to {e.ContextWindow:N0} tokens) | {e.PerUserCalls:N0} | {e.PerUserPromptTokens:N0} |");
        md.AppendLine().AppendLine(inv, $"LIBER needs {(double)e.NaivePerEventCalls / Math.Max(1, e.LiberCalls):F1}x fewer calls than re-summarising at every event, and stays current, unlike one summary per user.").AppendLine();

        if (attention is not null)
        {
            md.AppendLine(inv, $"## One user: user {attention.UserId ?? attention.User.ToString(inv)}, test sample at index {attention.Index}").AppendLine();
            md.AppendLine(inv, $"Target item: {attention.Target}. UIF's attention over the partitions this sample may see (end < {attention.Index}):").AppendLine();
            md.AppendLine("| partition | events | attention | summary | shift |").AppendLine("|---|---|---|---|---|");
            ReadOnlySpan<Partition> ofUser = source.Partitions!.Of(attention.User);
            for (int k = 0; k < attention.Partitions.Count; k++)
            {
                Partition p = ofUser[attention.Partitions[k]];
                string summary = Cell(source.Texts!.Summary(p.User, p.Number));
                string shift = Cell(source.Texts!.Shift(p.User, p.Number));
                md.AppendLine(inv, $"| {p.Number} | [{p.Start}, {p.End}] | {attention.Weights[k]:F3} | {summary} | {shift} |");
            }

            ExperimentReport.AttentionChart([.. attention.Weights.Select(x => (double)x)], [.. attention.Partitions.Select(x => $"p{x}")], Path.Combine(dir, "attention.png"), $"UIF attention of user {attention.UserId ?? attention.User.ToString(inv)} for {attention.Target}");
            md.AppendLine().AppendLine("![attention](attention.png)").AppendLine();
        }

        md.AppendLine("Files: `dataset-stats.json`, `partitions.json`, `interests.jsonl` (every partition's texts), `results.json`, caches `llm-cache.db` and `embedding-cache.db` (a rerun encodes nothing twice).");
        return md.ToString();
    }

    private static string Cell(string? text) => text is null ? "—" : text.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal);
}
