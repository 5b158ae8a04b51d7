using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Core.Streams;
using Liber.Interests;
using Liber.Interests.Backends;
using Liber.Interests.Learning;
using Liber.Interests.Prompts;
using Liber.Pipeline;
using Microsoft.Extensions.AI;
using Spectre.Console;

namespace Liber.Cli.Commands;

/// <summary><c>liber learn</c>: UIL, interest summaries and shifts for every closed partition, with accounting.</summary>
public static class LearnCommand
{
    /// <summary>Exit code of a run that ended with failed or skipped partitions (rerun with the same cache to resume).</summary>
    public const int Incomplete = 3;

    /// <summary>Creates the <c>learn</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("learn", "UIL: learn an interest summary and shift for every closed partition (cascade per user), with cache, retries and accounting; exit 3 when partitions are left failed or skipped (rerun with the same --cache to resume)");
        var ds = new DatasetOptions();
        ds.AddTo(cmd);
        var po = new PartitionCommand.PolicyOptions();
        po.AddTo(cmd);
        var llm = new LlmOptions("--threads");
        llm.AddTo(cmd);
        var window = new Option<int>("--context-window") { Description = "context window (tokens) assumed by the efficiency estimate for the naive strategies", DefaultValueFactory = _ => 8192 };
        var dryRun = new Option<bool>("--dry-run") { Description = "print only the efficiency estimate (calls and prompt tokens of LIBER vs naive strategies); call nothing" };
        var output = new Option<string?>("--out") { Description = "write every partition's record (status, texts, tokens) as JSON lines to this file" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { window, dryRun, output, json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (r, ct) =>
        {
            ds.Validate(r);
            po.Validate(r);
            llm.Validate(r, backendUsed: !r.GetValue(dryRun));
            FlagChecks.AtLeast(r, window, 1);
            PartitionOptions popts = po.Read(r);
            IPartitionPolicy policy = PartitionPolicies.Create(popts);
            var dataset = ds.Load(r);
            var streams = UserStreams.Build(dataset);
            var counter = new Cl100kTokenCounter();
            var set = PartitionSet.Build(streams, policy, popts.Caps, ItemFeatures.Build(dataset, counter));
            LearnOptions options = llm.ReadLearnOptions(r, dataset.Kind);
            string dom = options.Domain;
            var estimate = EfficiencyEstimate.Compute(streams, set, new PromptRenderer(streams, PromptTemplates.Load(dom)), counter, options.Mode,
                r.GetValue(window), maxOutputTokens: options.Sampling.MaxOutputTokens);
            if (r.GetValue(dryRun))
            {
                Print(io, r.GetValue(json), null, estimate, options);
                return LiberCommand.Ok;
            }

            using LlmBackend backend = llm.CreateBackend(r);
            InterestBackend be = backend.Backend;
            string? cachePath = r.GetValue(llm.Cache);
            using ResponseCache? store = cachePath is null ? null : new ResponseCache(cachePath);
            var learner = new InterestLearner(streams, be, options, store, counter);
            LearnResult result;
            try
            {
                result = await RunWithProgressAsync(io, learner, set, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                io.Error.WriteLine("liber: learn cancelled; answers already validated are in the cache, rerun to resume");
                return Incomplete;
            }

            if (r.GetValue(output) is string outPath)
            {
                InterestTextsFile.Write(outPath, result.Texts, dataset.Users);
            }

            Print(io, r.GetValue(json), result.Report, estimate, options);
            return result.Report.Done == result.Report.Partitions ? LiberCommand.Ok : Incomplete;
        });
        return cmd;
    }

    private static async Task<LearnResult> RunWithProgressAsync(CommandIo io, InterestLearner learner, PartitionSet set, CancellationToken ct)
    {
        bool terminal = ReferenceEquals(io.Error, Console.Error) && !Console.IsErrorRedirected;
        if (terminal)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            LearnResult? result = null;
            await console.Progress().StartAsync(async ctx =>
            {
                ProgressTask task = ctx.AddTask("learning partitions", maxValue: Math.Max(1, set.Count));
                var progress = new Progress<LearnProgress>(p =>
                {
                    task.Value = p.Finished;
                    task.Description = $"learning: {p.LlmCalls:N0} calls, {p.CacheHits:N0} hits, {p.Failures:N0} failed";
                });
                result = await learner.RunAsync(set, progress, ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            return result!;
        }

        // Plain progress lines, at most one every two seconds.
        long last = 0;
        var lines = new SynchronousProgress(p =>
        {
            long now = Environment.TickCount64;
            if (now - Interlocked.Read(ref last) >= 2000 || p.Finished == p.Total)
            {
                Interlocked.Exchange(ref last, now);
                lock (io.Error)
                {
                    io.Error.WriteLine($"learn: {p.Finished}/{p.Total} partitions, {p.LlmCalls} calls, {p.CacheHits} cache hits, {p.Failures} failed");
                }
            }
        });
        return await learner.RunAsync(set, lines, ct).ConfigureAwait(false);
    }

    private static void Print(CommandIo io, bool json, LearnReport? report, EfficiencyEstimate e, LearnOptions options)
    {
        var fields = new Dictionary<string, object?>();
        if (report is not null)
        {
            fields["backend"] = report.Backend;
            fields["model"] = report.Model;
            fields["template_version"] = report.TemplateVersion;
            fields["mode"] = report.Mode;
            fields["partitions"] = report.Partitions;
            fields["done"] = report.Done;
            fields["failures"] = report.Failures;
            fields["skipped"] = report.Skipped;
            fields["failures_by_reason"] = report.FailuresByReason;
            fields["llm_calls"] = report.LlmCalls;
            fields["cache_hits"] = report.CacheHits;
            fields["retries"] = report.Retries;
            fields["attempt_errors"] = report.AttemptErrors;
            fields["prompt_tokens"] = report.PromptTokens;
            fields["completion_tokens"] = report.CompletionTokens;
            fields["budget_exhausted"] = report.BudgetExhausted;
            fields["seconds"] = report.Seconds;
        }
        else
        {
            fields["dry_run"] = true;
            fields["mode"] = options.Mode == LearnMode.OneCall ? "one-call" : "two-call";
            fields["partitions"] = e.Partitions;
        }

        fields["liber_calls"] = e.LiberCalls;
        fields["liber_prompt_tokens"] = e.LiberPromptTokens;
        fields["naive_per_event_calls"] = e.NaivePerEventCalls;
        fields["naive_per_event_prompt_tokens"] = e.NaivePerEventPromptTokens;
        fields["per_user_calls"] = e.PerUserCalls;
        fields["per_user_prompt_tokens"] = e.PerUserPromptTokens;
        fields["context_window"] = e.ContextWindow;
        fields["assumed_summary_tokens"] = e.SummaryTokens;
        if (json)
        {
            io.Output.WriteLine(JsonSerializer.Serialize(fields, DataCommand.Json));
            return;
        }

        if (report is not null)
        {
            string label = report.Backend == "template" ? " (template writer: statistics, no LLM)" : string.Empty;
            io.Output.WriteLine($"backend {report.Backend}{label}, model {report.Model}, templates {report.TemplateVersion}, mode {report.Mode}");
            io.Output.WriteLine($"partitions {report.Partitions:N0}: done {report.Done:N0}, failed {report.Failures:N0}, skipped {report.Skipped:N0}{(report.FailuresByReason.Count > 0 ? " (" + string.Join(", ", report.FailuresByReason.Select(kv => $"{kv.Key}: {kv.Value}")) + ")" : string.Empty)}");
            io.Output.WriteLine($"llm calls {report.LlmCalls:N0} (retries {report.Retries:N0}), cache hits {report.CacheHits:N0}, prompt tokens {report.PromptTokens:N0}, completion tokens {report.CompletionTokens:N0}, {report.Seconds.ToString("F2", CultureInfo.InvariantCulture)} s{(report.BudgetExhausted ? "; budget exhausted" : string.Empty)}");
        }

        io.Output.WriteLine($"estimate (cl100k_base, context window {e.ContextWindow:N0}): LIBER {e.LiberCalls:N0} calls / {e.LiberPromptTokens:N0} prompt tokens; re-summarise at every event {e.NaivePerEventCalls:N0} / {e.NaivePerEventPromptTokens:N0}; one summary per user {e.PerUserCalls:N0} / {e.PerUserPromptTokens:N0}");
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and may print after the summary).</summary>
    private sealed class SynchronousProgress(Action<LearnProgress> report) : IProgress<LearnProgress>
    {
        public void Report(LearnProgress value) => report(value);
    }
}
