using System.CommandLine;
using System.Globalization;
using Liber.Core.Partitioning;
using Liber.Interests.Learning;
using Liber.Interests.Prompts;
using Liber.Interests.Template;
using Liber.Models.Training;

namespace Liber.Cli.Commands;

/// <summary>LIBER's chain as one verb resolved it: from its flags, or from a checkpoint's recorded setup with the flags checked against it.</summary>
/// <param name="Partition">UBSP policy and caps.</param>
/// <param name="Backend">UIL backend kind (template, openai, llama).</param>
/// <param name="Model">openai: the model name (null: the --model flag).</param>
/// <param name="Learn">UIL options (mode and domain included).</param>
/// <param name="Encoder">Knowledge encoder.</param>
public sealed record ChainSettings(PartitionOptions Partition, string Backend, string? Model, LearnOptions Learn, string Encoder)
{
    /// <summary>The settings a parse's flags give.</summary>
    public static ChainSettings FromFlags(ParseResult r, LiberChainOptions chain, string datasetKind)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(chain);
        return new ChainSettings(chain.Policy.Read(r), chain.Llm.BackendKind(r), r.GetValue(chain.Llm.Model), chain.Llm.ReadLearnOptions(r, datasetKind), r.GetValue(chain.Encoder)!);
    }

    /// <summary>What a checkpoint records of these settings, with the backend that wrote the texts, P and the fusion variant.</summary>
    public LiberSetup ToSetup(InterestBackend backend, int maxPartitions, Liber.Models.Fusion.FusionVariant fusion)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return new LiberSetup
        {
            Policy = PolicySetup.From(Partition),
            MaxPartitions = maxPartitions,
            Uil = new UilSetup
            {
                Backend = backend.Name,
                Model = backend.Model,
                Mode = ModeName(Learn.Mode),
                TemplateVersion = backend.Chat is null ? Learn.TemplateVersion : PromptTemplates.CurrentVersion,
                Domain = Learn.Domain,
            },
            Encoder = Encoder,
            Fusion = fusion.Name,
        };
    }

    /// <summary>
    /// The settings of a checkpoint's recorded chain: each flag given explicitly must agree with the record, else one
    /// line names the flag, both values, the file and the fix; flags left out take the recorded values.
    /// </summary>
    public static ChainSettings FromCheckpoint(ParseResult r, LiberChainOptions chain, LiberSetup recorded, string configPath)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(recorded);
        var conflicts = new Conflicts(r, configPath);
        PolicySetup p = recorded.Policy;
        var po = chain.Policy;
        string policy = p.Describe();
        conflicts.Check(po.Policy, v => v == p.Name, $"{policy}");
        conflicts.Check(po.K, v => p.Name == "count" && v == p.K, policy);
        conflicts.Check(po.Gap, v => p.Name == "gap" && v == p.GapSeconds, policy);
        conflicts.Check(po.Period, v => p.Name == "window" && string.Equals(v.ToString(), p.Period, StringComparison.OrdinalIgnoreCase), policy);
        conflicts.Check(po.TimeZone, v => p.Name == "window" && v == p.TimeZone, policy);
        conflicts.Check(po.DriftWindow, v => p.Name == "drift" && v == p.DriftWindow, policy);
        conflicts.Check(po.DriftThreshold, v => p.Name == "drift" && v == p.DriftThreshold, policy);
        conflicts.Check(po.MaxEvents, v => v == p.MaxEvents, $"cap max_events={p.MaxEvents}");
        conflicts.Check(po.MaxTokens, v => v == p.MaxPromptTokens, $"cap max_prompt_tokens={p.MaxPromptTokens}");
        UilSetup u = recorded.Uil;
        string backend = chain.Llm.BackendKind(r);
        bool backendGiven = r.GetResult(chain.Llm.Backend) is { Implicit: false } || r.GetValue(chain.Llm.Endpoint) is not null;
        if (backendGiven && backend != u.Backend)
        {
            conflicts.Fail(r.GetResult(chain.Llm.Backend) is { Implicit: false } ? "--backend" : "--endpoint", backend, $"UIL backend {u.Backend}");
        }

        conflicts.Check(chain.Llm.Model, v => u.Backend != "openai" || v == u.Model, $"UIL model {u.Model}");
        conflicts.Check(chain.Llm.Mode, v => v == u.Mode, $"UIL mode {u.Mode}");
        conflicts.Check(chain.Llm.Domain, v => v == u.Domain, $"prompt domain {u.Domain}");
        conflicts.Check(chain.Encoder, v => v == recorded.Encoder, $"encoder {recorded.Encoder}");
        conflicts.Check(chain.Llm.TemplateVersion, v => u.Backend != "template" || v == u.TemplateVersion, $"template writer {u.TemplateVersion}");
        LearnOptions learn = chain.Llm.ReadLearnOptions(r, "generic") with
        {
            Mode = u.Mode == "one-call" ? LearnMode.OneCall : LearnMode.TwoCall,
            Domain = u.Domain,
            TemplateVersion = u.Backend == "template" && TemplateInterestWriter.Versions.Contains(u.TemplateVersion) ? u.TemplateVersion : TemplateInterestWriter.Version,
        };
        return new ChainSettings(p.ToOptions(), u.Backend, u.Backend == "openai" ? u.Model : null, learn, recorded.Encoder);
    }

    /// <summary>The CLI name of a UIL mode.</summary>
    public static string ModeName(LearnMode mode) => mode == LearnMode.OneCall ? "one-call" : "two-call";

    /// <summary>Checks explicitly given flags against a checkpoint's record.</summary>
    private sealed class Conflicts(ParseResult r, string configPath)
    {
        public void Check<T>(Option<T> option, Func<T, bool> agrees, string recorded)
        {
            if (r.GetResult(option) is { Implicit: false } && r.GetValue(option) is T v && !agrees(v))
            {
                Fail(option.Name, Format(v), recorded);
            }
        }

        public void Fail(string flag, string value, string recorded) =>
            throw new UserErrorException($"{flag} {value} conflicts with the checkpoint's {recorded} ({configPath}); drop {flag} or retrain");

        private static string Format(object? v) => v switch
        {
            double d => d.ToString("0.######", CultureInfo.InvariantCulture),
            Enum e => e.ToString().ToLowerInvariant(),
            _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
        };
    }
}
