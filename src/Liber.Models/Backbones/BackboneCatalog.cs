using Liber.Models.Features;

namespace Liber.Models.Backbones;

/// <summary>A registered backbone: its name, a one-line description and its factory.</summary>
/// <param name="Name">Lowercase name used on the command line and in configs.</param>
/// <param name="Description">One line for help output.</param>
/// <param name="Create">Builds the module from a feature map and typed options.</param>
public sealed record BackboneSpec(string Name, string Description, Func<FeatureMap, BackboneOptions, CtrBackbone> Create);

/// <summary>The catalog of backbones: one explicit line per backbone, no reflection.</summary>
public static class BackboneCatalog
{
    /// <summary>Every backbone, in the order shown in help. Add a line here to register a new one.</summary>
    public static IReadOnlyList<BackboneSpec> All { get; } =
    [
        new("din", "DIN: target attention over the short-term history (L events)", (m, o) => new Din(m, o)),
        new("deepfm", "DeepFM: factorisation machine and deep part over user, item and pooled-history fields", (m, o) => new DeepFm(m, o)),
        new("din-long", "long-history peer: DIN attention over the last long_length (200) events instead of L", (m, o) => new Din(m, o, new LongHistoryRequest(LongHistoryKind.Recent, o.LongLength))),
        new("sim", "long-history peer: SIM hard search (events sharing the target's category, most recent search_length = 50) + short-term DIN", (m, o) => new Sim(m, o)),
        new("dien", "DIEN: interest extractor GRU with auxiliary loss and AUGRU interest evolution over the short-term history", (m, o) => new Dien(m, o)),
        new("dcnv2", "DCN-V2: cross network v2 (3 full-rank layers) stacked under the deep head, over DeepFM's fields", (m, o) => new Dcnv2(m, o)),
        new("autoint", "AutoInt: multi-head self-attention interacting layers (3 layers, 2 heads of 32) over DeepFM's fields", (m, o) => new AutoInt(m, o)),
    ];

    /// <summary>Registered names.</summary>
    public static IEnumerable<string> Names => All.Select(b => b.Name);

    /// <summary>The backbone of a name, or an <see cref="ArgumentException"/> listing the names.</summary>
    public static BackboneSpec Get(string name) =>
        All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown backbone '{name}'; known: {string.Join(", ", Names)}");
}
