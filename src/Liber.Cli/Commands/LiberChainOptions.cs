using System.CommandLine;
using Liber.Core.Data;
using Liber.Pipeline;

namespace Liber.Cli.Commands;

/// <summary>The options of LIBER's chain shared by the verbs that build partition vectors (train, evaluate): policy, UIL backend, encoder and caches.</summary>
public sealed class LiberChainOptions
{
    /// <summary>Partition policy options.</summary>
    public PartitionCommand.PolicyOptions Policy { get; } = new();

    /// <summary>UIL options.</summary>
    public LlmOptions Llm { get; } = new();

    /// <summary>--encoder.</summary>
    public Option<string> Encoder { get; } = new("--encoder") { Description = "encoder of the interest texts: minilm, arctic-xs or openai; or stats: each partition's statistics as a fixed vector, no LLM and no text (train/evaluate only)", DefaultValueFactory = _ => "minilm" };

    /// <summary>--embedding-cache.</summary>
    public Option<string?> EmbeddingCache { get; } = new("--embedding-cache") { Description = "SQLite embedding cache: no text is encoded twice across runs" };

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command c)
    {
        Policy.AddTo(c);
        Llm.AddTo(c);
        Encoder.AcceptOnlyFromAmong([.. ChainEncoders.Names]);
        c.Options.Add(Encoder);
        c.Options.Add(EmbeddingCache);
    }

    /// <summary>Checks the chain's flags (policy, UIL) before any work.</summary>
    public void Validate(ParseResult r, bool checkpointSetsModel = false)
    {
        Policy.Validate(r);
        Llm.Validate(r, checkpointSetsModel);
    }

    /// <summary>The chain's vector source for a parse; it owns <paramref name="backend"/>'s lifetime only if the caller passes it nowhere else.</summary>
    public LiberVectorSource CreateSource(ParseResult r, Dataset dataset, Liber.Models.Fusion.FusionVariant variant, LlmBackend backend, TextWriter log) =>
        CreateSource(r, ChainSettings.FromFlags(r, this, dataset.Kind), variant, backend, log);

    /// <summary>The chain's vector source for resolved settings (a checkpoint's), with the parse's caches.</summary>
    public LiberVectorSource CreateSource(ParseResult r, ChainSettings settings, Liber.Models.Fusion.FusionVariant variant, LlmBackend backend, TextWriter log) => LiberVectorSource.For(
        new LiberPipelineOptions
        {
            Partition = settings.Partition,
            Learn = settings.Learn,
            LlmCache = r.GetValue(Llm.Cache),
            Encoder = settings.Encoder,
            EmbeddingCache = r.GetValue(EmbeddingCache),
            Variant = variant,
        },
        backend,
        log);
}
