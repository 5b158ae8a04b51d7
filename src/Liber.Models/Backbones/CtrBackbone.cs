using Liber.Models.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace Liber.Models.Backbones;

/// <summary>
/// What a backbone returns for a batch. The shared <see cref="CtrModel"/> head turns it into logits:
/// <c>logit = Head([Features ; uif]) + Logit</c>, where <c>uif</c> is LIBER's fused 32-d user-interest
/// vector when the model has fusion. This is the single contract through which <c>+liber</c> works with
/// every backbone: a backbone never sees LIBER's input.
/// </summary>
/// <param name="Features">[B, W] float32: the backbone's final-MLP input, W = <see cref="CtrBackbone.OutputWidth"/>.</param>
/// <param name="Target">[B, <see cref="CtrBackbone.TargetWidth"/>] float32: the target item's embedding, the query UIF scores partitions against.</param>
/// <param name="Logit">[B] float32 or null: a term added to the head's logit (e.g. DeepFM's FM part, a wide part).</param>
/// <param name="AuxiliaryLoss">Scalar or null: an extra training loss the trainer adds (e.g. DIEN's auxiliary loss); ignored in evaluation.</param>
public sealed record BackboneOutput(Tensor Features, Tensor Target, Tensor? Logit = null, Tensor? AuxiliaryLoss = null);

/// <summary>Which long history a backbone needs the collator to supply in <see cref="CtrBatch.LongHistory"/>.</summary>
public enum LongHistoryKind
{
    /// <summary>The T most recent events before the sample (din-long).</summary>
    Recent,

    /// <summary>SIM hard search: of all events before the sample, those sharing a category with the target item, the T most recent.</summary>
    CategorySearch,
}

/// <summary>A backbone's request for a long history of up to <paramref name="Length"/> events.</summary>
/// <param name="Kind">How the events are chosen.</param>
/// <param name="Length">T, the most events supplied.</param>
public sealed record LongHistoryRequest(LongHistoryKind Kind, int Length);

/// <summary>
/// A CTR backbone: a plain TorchSharp module (it does not train itself) whose forward maps a
/// <see cref="CtrBatch"/> to a <see cref="BackboneOutput"/>.
/// </summary>
/// <remarks>
/// <para>How to add a backbone:</para>
/// <list type="number">
/// <item>Create <c>Backbones/&lt;Name&gt;/&lt;Name&gt;.cs</c> with <c>public sealed class &lt;Name&gt; : CtrBackbone</c>, constructed
/// from <c>(FeatureMap map, BackboneOptions options)</c>. Build embeddings with <see cref="Layers.FeatureEmbeddings"/> (ids,
/// categories, profile fields); declare submodules as private readonly fields in call order and end the
/// constructor with <c>RegisterComponents()</c>; override <c>Dispose</c>.</item>
/// <item>Set <see cref="OutputWidth"/> to the width of the features it returns (what would enter its final MLP),
/// and return the target item embedding (<see cref="Layers.FeatureEmbeddings.TargetItem"/>) as <see cref="BackboneOutput.Target"/>.
/// Do not build a final MLP or output layer: the shared head in <see cref="CtrModel"/> does that (hidden sizes
/// <see cref="BackboneOptions.Hidden"/>, default 200-80), and concatenates LIBER's vector when present.
/// A parallel logit term (FM, wide, cross-network output layer) goes in <see cref="BackboneOutput.Logit"/>.</item>
/// <item>If it needs a long history, override <see cref="LongHistory"/>; the collator then fills
/// <see cref="CtrBatch.LongHistory"/>.</item>
/// <item>Add one line to <see cref="BackboneCatalog.All"/>. The catalog test theory then checks shape, loss decrease and
/// save/load round trip, with and without LIBER, without editing any test.</item>
/// </list>
/// <para>Forward passes carry shape comments; options specific to a backbone live in <see cref="BackboneOptions"/>
/// with documented defaults.</para>
/// </remarks>
public abstract class CtrBackbone : nn.Module<CtrBatch, BackboneOutput>
{
    /// <summary>Creates the module with a name (used in state dict keys).</summary>
    protected CtrBackbone(string name)
        : base(name)
    {
    }

    /// <summary>W: width of <see cref="BackboneOutput.Features"/>.</summary>
    public abstract int OutputWidth { get; }

    /// <summary>Width of <see cref="BackboneOutput.Target"/>.</summary>
    public abstract int TargetWidth { get; }

    /// <summary>The long history the backbone needs, or null (the default) for none.</summary>
    public virtual LongHistoryRequest? LongHistory => null;
}
