using System.Globalization;
using Liber.Cli.Commands;
using Liber.Core.Partitioning;
using Liber.Core.Readers;
using Liber.Interests.Prompts;
using Liber.Models.Backbones;
using Liber.Models.Fusion;
using Liber.Models.Training;
using Liber.Pipeline;

namespace Liber.Cli.Experiments;

/// <summary>
/// Every check of an experiment file that JSON types cannot make, run before the first cell trains (by <c>run</c> and
/// <c>run --list</c> alike): each problem is one line naming its JSON path, the value and what is accepted.
/// </summary>
public static class ExperimentChecks
{
    /// <summary>The problems of <paramref name="f"/>, empty when every cell can run; <paramref name="checkFiles"/> also requires the data set's files to exist.</summary>
    public static IReadOnlyList<string> Problems(ExperimentFile f, bool checkFiles = true)
    {
        ArgumentNullException.ThrowIfNull(f);
        var p = new List<string>();
        void Bad(string key, string problem) => p.Add($"$.{key}: {problem}");
        static string List(IEnumerable<string> xs) => string.Join(", ", xs);

        if (string.IsNullOrWhiteSpace(f.Name) || f.Name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || f.Name.Contains(' ', StringComparison.Ordinal))
        {
            Bad("name", $"'{f.Name}' must be a non-empty folder name without spaces");
        }

        Dataset(f.Dataset, checkFiles, Bad);
        if (f.Samples.Negatives is < 0 or > 1000)
        {
            Bad("samples.negatives", $"{f.Samples.Negatives} is out of range; it must be in 0..1000");
        }

        if (f.Samples.HistoryLength < 1)
        {
            Bad("samples.history_length", $"{f.Samples.HistoryLength} is out of range; L must be >= 1");
        }

        if (f.Samples.MinHistory < 0)
        {
            Bad("samples.min_history", $"{f.Samples.MinHistory} is out of range; it must be >= 0");
        }

        if (f.Samples.Threshold is float t && !float.IsFinite(t))
        {
            Bad("samples.threshold", $"{t} is not a finite rating");
        }

        Training("training", f.Training, Bad);
        GridSpec g = f.Grid;
        if (g.Backbones.Count == 0)
        {
            Bad("grid.backbones", $"needs at least one backbone; accepted: {List(TrainingRun.Backbones)}");
        }

        for (int i = 0; i < g.Backbones.Count; i++)
        {
            if (!TrainingRun.Backbones.Contains(g.Backbones[i]))
            {
                Bad($"grid.backbones[{i}]", $"'{g.Backbones[i]}' is not a backbone; accepted: {List(TrainingRun.Backbones)}");
            }
            else if (g.Backbones[i] == global::Liber.Models.Gbdt.GbdtPeer.Name && g.Liber.Contains(true))
            {
                Bad($"grid.backbones[{i}]", "'gbdt' has no LIBER fusion but grid.liber holds true; put the gbdt peer in an experiment with \"liber\": [false]");
            }
        }

        if (g.Seeds.Count == 0)
        {
            Bad("grid.seeds", "needs at least one seed");
        }

        if (g.Liber.Count == 0)
        {
            Bad("grid.liber", "needs true, false or both");
        }

        bool liber = g.Liber.Contains(true);
        if (liber && (g.Fusions.Count == 0 || g.Policies.Count == 0 || g.Modes.Count == 0))
        {
            Bad("grid", "with liber true, fusions, policies and modes each need at least one value");
        }

        for (int i = 0; i < g.Fusions.Count; i++)
        {
            if (!FusionVariant.Names.Contains(g.Fusions[i]))
            {
                Bad($"grid.fusions[{i}]", $"'{g.Fusions[i]}' is not a fusion variant; accepted: {List(FusionVariant.Names)}");
            }
            else if (liber && FusionVariant.Parse(g.Fusions[i]).ReadsStatsVectors && f.Liber.Encoder != global::Liber.Pipeline.ChainEncoders.Stats)
            {
                Bad($"grid.fusions[{i}]", $"'{g.Fusions[i]}' reads the stats encoder's vectors by position, but liber.encoder is '{f.Liber.Encoder}'; set \"encoder\": \"stats\"");
            }
        }

        for (int i = 0; i < g.Modes.Count; i++)
        {
            if (g.Modes[i] is not ("one-call" or "two-call"))
            {
                Bad($"grid.modes[{i}]", $"'{g.Modes[i]}' is not a UIL mode; accepted: one-call, two-call");
            }
        }

        for (int i = 0; i < g.Policies.Count; i++)
        {
            Policy($"grid.policies[{i}]", g.Policies[i], Bad);
        }

        if (g.Training is { Count: 0 })
        {
            Bad("grid.training", "needs at least one variant when given");
        }

        for (int i = 0; i < (g.Training?.Count ?? 0); i++)
        {
            Training($"grid.training[{i}]", g.Training![i].Apply(f.Training), Bad);
        }

        string? neural = g.Backbones.FirstOrDefault(b => b != global::Liber.Models.Gbdt.GbdtPeer.Name);
        if (neural is not null && (f.Training.GbdtPartitions is not null || (g.Training?.Any(v => v.GbdtPartitions is not null) ?? false)))
        {
            Bad("training.gbdt_partitions", $"applies to the gbdt peer only, but grid.backbones holds '{neural}'; put the gbdt peer in an experiment of its own");
        }

        if (liber)
        {
            Liber(f.Liber, checkFiles, Bad);
        }

        return p;
    }

    private static void Dataset(DatasetSpec d, bool checkFiles, Action<string, string> bad)
    {
        var kinds = DatasetReaders.All.Select(r => r.Kind).ToList();
        bool synthetic = string.Equals(d.Kind, "synthetic", StringComparison.OrdinalIgnoreCase);
        if (!kinds.Contains(d.Kind, StringComparer.OrdinalIgnoreCase))
        {
            bad("dataset.kind", $"'{d.Kind}' is not a data set kind; accepted: {string.Join(", ", kinds)}");
        }
        else if (!synthetic && d.Path is null)
        {
            bad("dataset.path", $"a {d.Kind} data set needs the folder holding its files");
        }

        if (checkFiles && d.Path is string path && !Directory.Exists(path) && !File.Exists(path))
        {
            bad("dataset.path", $"'{path}' does not exist (relative paths are resolved against the current folder {Environment.CurrentDirectory})");
        }

        if (checkFiles && d.Mapping is string mapping && !File.Exists(mapping))
        {
            bad("dataset.mapping", $"'{mapping}' does not exist");
        }

        if (d.OnBadRow is not ("fail" or "skip"))
        {
            bad("dataset.on_bad_row", $"'{d.OnBadRow}' is not accepted; accepted: fail, skip");
        }

        if (d.Users is < 1)
        {
            bad("dataset.users", $"{d.Users} is out of range; it must be >= 1");
        }

        if (d.EventsPerUser is < 1)
        {
            bad("dataset.events_per_user", $"{d.EventsPerUser} is out of range; it must be >= 1");
        }
    }

    private static void Training(string at, TrainingSpec t, Action<string, string> bad)
    {
        string F(double x) => x.ToString("0.######", CultureInfo.InvariantCulture);
        if (t.Epochs < 1)
        {
            bad($"{at}.epochs", $"{t.Epochs} is out of range; it must be >= 1");
        }

        if (t.Patience < 1)
        {
            bad($"{at}.patience", $"{t.Patience} is out of range; it must be >= 1");
        }

        if (t.BatchSize < 1)
        {
            bad($"{at}.batch_size", $"{t.BatchSize} is out of range; it must be >= 1");
        }

        if (!(t.LearningRate > 0))
        {
            bad($"{at}.lr", $"{F(t.LearningRate)} is out of range; it must be > 0");
        }

        if (!(t.WeightDecay >= 0))
        {
            bad($"{at}.weight_decay", $"{F(t.WeightDecay)} is out of range; it must be >= 0");
        }

        if (t.GbdtPartitions is < 1)
        {
            bad($"{at}.gbdt_partitions", $"{t.GbdtPartitions} is out of range; the partition size K must be >= 1 (leave the key out for no partition columns)");
        }

        if (t.Dropout is double dropout && !(dropout is >= 0 and < 1))
        {
            bad($"{at}.dropout", $"{F(dropout)} is out of range; it must be in [0, 1)");
        }

        if (t.Backbone is { } backbone)
        {
            try
            {
                backbone.Validate();
            }
            catch (ArgumentException e)
            {
                bad($"{at}.backbone", e.Message);
            }
        }

        if (t.Threads < 1)
        {
            bad($"{at}.threads", $"{t.Threads} is out of range; it must be >= 1");
        }

        if (t.Device is not ("cpu" or "cuda"))
        {
            bad($"{at}.device", $"'{t.Device}' is not accepted; accepted: cpu, cuda");
        }
    }

    private static void Policy(string at, PolicySpec s, Action<string, string> bad)
    {
        if (!PartitionPolicies.Names.Contains(s.Policy))
        {
            bad($"{at}.policy", $"'{s.Policy}' is not a partition policy; accepted: {string.Join(", ", PartitionPolicies.Names)}");
            return;
        }

        // A parameter of another policy would be silently ignored, so it is an error like an unknown key.
        void Foreign(string key, object? value, string owner)
        {
            if (value is not null && s.Policy != owner)
            {
                bad($"{at}.{key}", $"applies to the {owner} policy, not {s.Policy}");
            }
        }

        Foreign("k", s.K, "count");
        Foreign("gap_seconds", s.GapSeconds, "gap");
        Foreign("period", s.Period, "window");
        Foreign("time_zone", s.TimeZone, "window");
        Foreign("drift_window", s.DriftWindow, "drift");
        Foreign("drift_threshold", s.DriftThreshold, "drift");
        if (s.K is < 1)
        {
            bad($"{at}.k", $"{s.K} is out of range; the count policy needs k >= 1");
        }

        if (s.GapSeconds is < 0)
        {
            bad($"{at}.gap_seconds", $"{s.GapSeconds} is out of range; it must be >= 0");
        }

        if (s.Period is string period && !Enum.TryParse<CalendarPeriod>(period, ignoreCase: true, out _))
        {
            bad($"{at}.period", $"'{period}' is not accepted; accepted: day, week, month");
        }

        if (s.TimeZone is string zone && !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
        {
            bad($"{at}.time_zone", $"'{zone}' is not a known IANA time zone (e.g. UTC, Europe/Paris)");
        }

        if (s.DriftWindow is < 1)
        {
            bad($"{at}.drift_window", $"{s.DriftWindow} is out of range; it must be >= 1");
        }

        if (s.DriftThreshold is double th && !(th is > 0 and < 1))
        {
            bad($"{at}.drift_threshold", $"{th.ToString(CultureInfo.InvariantCulture)} is out of range; it must be in (0, 1)");
        }
    }

    private static void Liber(LiberSpec l, bool checkFiles, Action<string, string> bad)
    {
        switch (l.Backend)
        {
            case "template":
                break;
            case "openai":
                if (l.Endpoint is null || l.Model is null)
                {
                    bad("liber", "backend openai needs endpoint and model");
                }

                if (l.Endpoint is string e)
                {
                    try
                    {
                        LlmBackend.ParseEndpoint(e, "endpoint");
                    }
                    catch (ArgumentException x)
                    {
                        bad("liber.endpoint", x.Message);
                    }
                }

                break;
            case "llama":
                if (l.Gguf is null || (checkFiles && !File.Exists(l.Gguf)))
                {
                    bad("liber.gguf", l.Gguf is null ? "backend llama needs gguf (a GGUF model file)" : $"'{l.Gguf}' does not exist");
                }

                break;
            default:
                bad("liber.backend", $"'{l.Backend}' is not a UIL backend; accepted: template, openai, llama");
                break;
        }

        IReadOnlyList<string> encoders = global::Liber.Pipeline.ChainEncoders.Names;
        if (!encoders.Contains(l.Encoder))
        {
            bad("liber.encoder", $"'{l.Encoder}' is not an encoder; accepted: {string.Join(", ", encoders)}");
        }

        if (l.TemplateVersion is string tv && !global::Liber.Interests.Template.TemplateInterestWriter.Versions.Contains(tv))
        {
            bad("liber.template_version", $"'{tv}' is not a template writer version; accepted: {string.Join(", ", global::Liber.Interests.Template.TemplateInterestWriter.Versions)}");
        }

        if (l.Domain is string d && !PromptTemplates.Domains.Contains(d))
        {
            bad("liber.domain", $"'{d}' is not a prompt domain; accepted: {string.Join(", ", PromptTemplates.Domains)}");
        }

        foreach ((string key, int value) in new[] { ("max_partitions", l.MaxPartitions), ("max_in_flight", l.MaxInFlight), ("max_events", l.MaxEvents), ("max_prompt_tokens", l.MaxPromptTokens) })
        {
            if (value < 1)
            {
                bad($"liber.{key}", $"{value} is out of range; it must be >= 1");
            }
        }
    }
}
