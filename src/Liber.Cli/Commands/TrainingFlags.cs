using System.CommandLine;
using Liber.Cli.Experiments;
using Liber.Models.Backbones;
using Liber.Models.Training;

namespace Liber.Cli.Commands;

/// <summary>
/// The training flags <c>liber train</c> and <c>liber run</c> share, declared once. None has a default of its own: an absent flag
/// leaves the value to the layer below — the library records' defaults (<see cref="TrainOptions"/>, <see cref="BackboneOptions"/>)
/// for <c>train</c>, the experiment file (and its grid's training variants) for <c>run</c> — so the precedence is
/// flags &gt; file &gt; library default, with one place for each default.
/// </summary>
public sealed class TrainingFlags
{
    /// <summary>--epochs.</summary>
    public Option<int?> Epochs { get; } = new("--epochs") { Description = $"most epochs (early stopping on validation AUC; default {new TrainOptions().Epochs})" };

    /// <summary>--patience.</summary>
    public Option<int?> Patience { get; } = new("--patience") { Description = $"early-stopping patience in epochs (default {new TrainOptions().Patience})" };

    /// <summary>--batch-size.</summary>
    public Option<int?> BatchSize { get; } = new("--batch-size") { Description = $"training batch size (default {new TrainOptions().BatchSize})" };

    /// <summary>--lr.</summary>
    public Option<double?> LearningRate { get; } = new("--lr") { Description = $"AdamW learning rate (default {new TrainOptions().LearningRate})" };

    /// <summary>--weight-decay.</summary>
    public Option<double?> WeightDecay { get; } = new("--weight-decay") { Description = $"AdamW weight decay (default {new TrainOptions().WeightDecay})" };

    /// <summary>--dropout.</summary>
    public Option<double?> Dropout { get; } = new("--dropout") { Description = $"dropout after each hidden layer of the head (default {new BackboneOptions().Dropout})" };

    /// <summary>--user-id.</summary>
    public Option<string?> UserId { get; } = new("--user-id") { Description = "embed the user id: on (default) or off" };

    /// <summary>--threads.</summary>
    public Option<int?> Threads { get; } = new("--threads") { Description = "intra-op threads (default 1: bit-identical runs)" };

    /// <summary>--device.</summary>
    public Option<string?> Device { get; } = new("--device") { Description = "cpu (default) or cuda" };

    /// <summary>Adds the flags to a command.</summary>
    public void AddTo(Command c)
    {
        ArgumentNullException.ThrowIfNull(c);
        UserId.AcceptOnlyFromAmong("on", "off");
        Device.AcceptOnlyFromAmong("cpu", "cuda");
        foreach (Option o in new Option[] { Epochs, Patience, BatchSize, LearningRate, WeightDecay, Dropout, UserId, Threads, Device })
        {
            c.Options.Add(o);
        }
    }

    /// <summary>Checks the given flags' values (one line each) before any work.</summary>
    public void Validate(ParseResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        Check(r, Epochs, v => v >= 1, ">= 1, e.g. 10");
        Check(r, Patience, v => v >= 1, ">= 1, e.g. 2");
        Check(r, BatchSize, v => v >= 1, ">= 1, e.g. 256");
        Check(r, Threads, v => v >= 1, ">= 1");
        Check(r, LearningRate, v => v > 0 && double.IsFinite(v), "> 0, e.g. 0.001");
        Check(r, WeightDecay, v => v >= 0 && double.IsFinite(v), ">= 0, e.g. 0.01");
        Check(r, Dropout, v => v >= 0 && v < 1, "in [0, 1), e.g. 0.2");
    }

    /// <summary>The library's training options with the given flags over their defaults (<c>liber train</c>).</summary>
    public TrainOptions Training(ParseResult r, long seed)
    {
        ArgumentNullException.ThrowIfNull(r);
        var d = new TrainOptions();
        return d with
        {
            Epochs = r.GetValue(Epochs) ?? d.Epochs,
            Patience = r.GetValue(Patience) ?? d.Patience,
            BatchSize = r.GetValue(BatchSize) ?? d.BatchSize,
            LearningRate = r.GetValue(LearningRate) ?? d.LearningRate,
            WeightDecay = r.GetValue(WeightDecay) ?? d.WeightDecay,
            Device = r.GetValue(Device) ?? d.Device,
            Seed = seed,
        };
    }

    /// <summary>The backbone options <paramref name="options"/> with the given flags over them (<c>liber train</c>).</summary>
    public BackboneOptions Backbone(ParseResult r, BackboneOptions options)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            Dropout = r.GetValue(Dropout) ?? options.Dropout,
            UserId = r.GetValue(UserId) is string u ? u == "on" : options.UserId,
        };
    }

    /// <summary>Intra-op threads: the flag, else 1.</summary>
    public int ThreadCount(ParseResult r) => r.GetValue(Threads) ?? 1;

    /// <summary>An experiment file's training spec with the given flags over it (<c>liber run</c>: flags override the file and its grid's variants).</summary>
    public TrainingSpec Apply(ParseResult r, TrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(spec);
        return spec with
        {
            Epochs = r.GetValue(Epochs) ?? spec.Epochs,
            Patience = r.GetValue(Patience) ?? spec.Patience,
            BatchSize = r.GetValue(BatchSize) ?? spec.BatchSize,
            LearningRate = r.GetValue(LearningRate) ?? spec.LearningRate,
            WeightDecay = r.GetValue(WeightDecay) ?? spec.WeightDecay,
            Dropout = r.GetValue(Dropout) ?? spec.Dropout,
            UserId = r.GetValue(UserId) is string u ? u == "on" : spec.UserId,
            Threads = r.GetValue(Threads) ?? spec.Threads,
            Device = r.GetValue(Device) ?? spec.Device,
        };
    }

    /// <summary>Whether any of the flags was given.</summary>
    public bool AnyGiven(ParseResult r) =>
        new Option[] { Epochs, Patience, BatchSize, LearningRate, WeightDecay, Dropout, UserId, Threads, Device }.Any(o => r.GetResult(o) is { Implicit: false });

    private static void Check<T>(ParseResult r, Option<T?> option, Func<T, bool> ok, string expected)
        where T : struct
    {
        if (r.GetValue(option) is T v && !ok(v))
        {
            throw new ArgumentException(FormattableString.Invariant($"{option.Name} {v}: out of range; it must be {expected}"));
        }
    }
}
