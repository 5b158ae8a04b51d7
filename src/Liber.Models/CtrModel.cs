using System.Text.Json.Serialization;
using Liber.Core.Streams;
using Liber.Models.Backbones;
using Liber.Models.Features;
using Liber.Models.Fusion;
using Liber.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Liber.Models;

/// <summary>The resolved configuration of a model: backbone name and options, and LIBER's fusion (null: no LIBER).</summary>
public sealed record ModelConfig
{
    /// <summary>Backbone name in <see cref="BackboneCatalog"/>.</summary>
    [JsonPropertyName("backbone")] public required string Backbone { get; init; }

    /// <summary>Backbone options.</summary>
    [JsonPropertyName("options")] public BackboneOptions Options { get; init; } = new();

    /// <summary>UIF options, or null for the backbone alone.</summary>
    [JsonPropertyName("fusion")] public FusionOptions? Fusion { get; init; }
}

/// <summary>What a forward pass of <see cref="CtrModel"/> produces.</summary>
/// <param name="Logits">[B] float32.</param>
/// <param name="AuxiliaryLoss">Scalar or null: a backbone's extra training loss.</param>
public sealed record ModelOutput(Tensor Logits, Tensor? AuxiliaryLoss);

/// <summary>
/// A CTR model: a backbone, LIBER's optional fusion (UIF) and the shared head:
/// <c>logit = Linear(Mlp([features ; uif])) + backbone logit</c>. The head is the backbone's final MLP
/// (hidden sizes <see cref="BackboneOptions.Hidden"/>), so <c>+liber</c> works with every backbone.
/// A plain module: training lives in Training/ (the trainer).
/// </summary>
public sealed class CtrModel : nn.Module<CtrBatch, Tensor>
{
    private readonly CtrBackbone _backbone;
    private readonly Uif? _fusion;
    private readonly Mlp _head;
    private readonly Linear _output;
    private readonly Linear? _gate; // gated fusion: sigmoid(W_g [x; f]) per backbone feature
    private readonly Linear? _lift; // gated fusion: W_f f, the fused vector in the backbone's feature space
    private readonly PeriodicEmbedding? _numeric; // numeric "periodic": embeddings of the stats and recent columns
    private readonly Tensor? _statsScope; // stats_scope item: 1 on the item's statistics columns, 0 on the user's (a constant, not a parameter)

    /// <summary>Creates a model from a feature map and a resolved configuration.</summary>
    public CtrModel(FeatureMap map, ModelConfig config)
        : base(nameof(CtrModel))
    {
        config.Options.Validate();
        Config = config;
        Map = map;
        _backbone = BackboneCatalog.Get(config.Backbone).Create(map, config.Options);
        _fusion = config.Fusion is null ? null : new Uif(config.Fusion, _backbone.TargetWidth, map.CategoryVocabulary);
        bool gated = config.Fusion?.Variant.IsGatedResidual == true;
        if (gated)
        {
            _gate = nn.Linear(_backbone.OutputWidth + _fusion!.OutputSize, _backbone.OutputWidth);
            _lift = nn.Linear(_fusion.OutputSize, _backbone.OutputWidth, hasBias: false);
            using (no_grad())
            {
                _gate.bias!.fill_(-2.0); // the gate starts nearly closed (0.12): LIBER opens it only where it helps
            }
        }

        if (config.Options.Stats && config.Options.StatsScope == StatsScope.Item)
        {
            _statsScope = tensor(PointInTimeStats.Names.Select(n => n.StartsWith("item_", StringComparison.Ordinal) ? 1f : 0f).ToArray());
        }

        int numeric = (config.Options.Stats ? PointInTimeStats.Width : 0) + (config.Options.Recent ? RecentWindow.Width : 0);
        if (config.Options.Numeric == NumericEncoding.Periodic && numeric > 0)
        {
            _numeric = new PeriodicEmbedding(numeric, "numeric");
        }

        int width = _backbone.OutputWidth + numeric + (_numeric?.OutputWidth ?? 0) + (_fusion is null || gated ? 0 : _fusion.OutputSize);
        _head = new Mlp(width, config.Options.Hidden, config.Options.Dropout, "head");
        _output = nn.Linear(_head.OutputWidth, 1);
        RegisterComponents();
    }

    /// <summary>The resolved configuration.</summary>
    public ModelConfig Config { get; }

    /// <summary>The feature map the model was built for.</summary>
    public FeatureMap Map { get; }

    /// <summary>The backbone.</summary>
    public CtrBackbone Backbone => _backbone;

    /// <summary>The fusion layer, or null.</summary>
    public Uif? Fusion => _fusion;

    /// <summary>The long history the collator must supply (the backbone's request).</summary>
    public LongHistoryRequest? LongHistory => _backbone.LongHistory;

    /// <summary>Logits [B].</summary>
    public override Tensor forward(CtrBatch batch) => Run(batch).Logits;

    /// <summary>Logits [B] and the backbone's auxiliary loss.</summary>
    public ModelOutput Run(CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        BackboneOutput b = _backbone.call(batch);                               // Features [B, W], Target [B, Tw]
        Tensor features = b.Features;
        if (_gate is not null)
        {
            // Gated residual: x + sigmoid(W_g [x; f]) * W_f f; a sample without a visible partition has f = 0 and keeps x.
            LiberInput liber = batch.Liber ?? throw new ArgumentException("the model has LIBER fusion but the batch has no partition vectors (collator built without PartitionVectors)");
            Tensor fused = _fusion!.Fuse(liber, b.Target, batch.ItemCategories);                     // [B, 32]
            features = features + (_gate.call(cat([features, fused], 1)).sigmoid() * _lift!.call(fused)); // [B, W]
        }

        var numeric = new List<Tensor>(2);
        if (Config.Options.Stats)
        {
            // The numeric group: the point-in-time statistics join every backbone's final-MLP input (its deep part).
            Tensor stats = batch.Stats ?? throw new ArgumentException("the model reads the point-in-time statistics but the batch has none (collator built without stats)"); // [B, 8]
            numeric.Add(_statsScope is null ? stats : stats * _statsScope.to(stats.device));
        }

        if (Config.Options.Recent)
        {
            // The window's own statistics, computed here from the history tensors: no new input, online = offline by construction.
            numeric.Add(RecentWindow.Compute(batch, Map.LikedRating, Config.Options.Ratings != RatingEncoding.None)); // [B, 6]
        }

        if (numeric.Count > 0)
        {
            Tensor values = numeric.Count == 1 ? numeric[0] : cat(numeric, 1);
            features = _numeric is null ? cat([features, values], 1) : cat([features, values, _numeric.call(values)], 1); // [B, W + n (+ n·d)]
        }

        if (_fusion is not null && _gate is null)
        {
            LiberInput liber = batch.Liber ?? throw new ArgumentException("the model has LIBER fusion but the batch has no partition vectors (collator built without PartitionVectors)");
            features = cat([features, _fusion.Fuse(liber, b.Target, batch.ItemCategories)], 1); // [B, W + 32 (+ match features)]
        }

        Tensor logits = _output.call(_head.call(features)).squeeze(-1);        // [B]
        if (b.Logit is not null)
        {
            logits += b.Logit;
        }

        return new ModelOutput(logits.MoveToOuterDisposeScope(), b.AuxiliaryLoss?.MoveToOuterDisposeScope());
    }

    /// <summary>UIF's attention weights [B, P] for a batch (for reports), or null without fusion. Runs under no_grad.</summary>
    public Tensor? FusionWeights(CtrBatch batch)
    {
        if (_fusion is null || batch.Liber is null)
        {
            return null;
        }

        using var grad = no_grad();
        using var scope = NewDisposeScope();
        BackboneOutput b = _backbone.call(batch);
        return _fusion.Weights(batch.Liber, b.Target).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// UIF's weight of each visible partition of one sample (oldest first, the most recent last), for reports;
    /// empty when the sample sees no partition, null without fusion.
    /// </summary>
    public float[]? FusionWeights(Collator collator, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(collator);
        using var scope = NewDisposeScope();
        CtrBatch batch = collator.Build([ordinal]);
        bool training = this.training;
        eval();
        Tensor? weights = FusionWeights(batch);
        if (training)
        {
            train();
        }

        if (weights is null)
        {
            return null;
        }

        int visible = (int)batch.Liber!.Mask.sum().item<long>();
        return weights[0, ..visible].data<float>().ToArray();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _backbone.Dispose();
            _fusion?.Dispose();
            _head.Dispose();
            _output.Dispose();
            _numeric?.Dispose();
            _statsScope?.Dispose();
        }

        base.Dispose(disposing);
    }
}
