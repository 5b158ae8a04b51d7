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
    public Option<string?> UserId { get; } = new("--user-id") { Description = $"embed the user id: on or off (liber train default {(BackboneOptions.TrainDefaults.UserId ? "on" : "off")}, chosen on validation; experiment files: on unless \"user_id\": false)" };

    /// <summary>--recent.</summary>
    public Option<string?> Recent { get; } = new("--recent") { Description = $"statistics of the short-term window (liked share, mean and last rating, liking of the target's categories) as a numeric input group: on or off (liber train default {(BackboneOptions.TrainDefaults.Recent ? "on" : "off")}, chosen on validation; experiment files: off unless \"recent\": true)" };

    /// <summary>--stats.</summary>
    public Option<string?> Stats { get; } = new("--stats") { Description = $"point-in-time statistics (user, category and item counts and rates before the sample) as a numeric input group: on, off, or item (only the target item's statistics: the user's long-term statistics are left to LIBER) (default {(new BackboneOptions().Stats ? "on" : "off")}, chosen on validation, docs/backbones.md)" };

    /// <summary>--ratings.</summary>
    public Option<string?> Ratings { get; } = new("--ratings") { Description = $"how history ratings enter the backbone: level (a learned vector per rating level), sentiment (liked / not liked), none (ignored: the rating-blind control); default {new BackboneOptions().Ratings.ToString().ToLowerInvariant()}" };

    /// <summary>--numeric.</summary>
    public Option<string?> Numeric { get; } = new("--numeric") { Description = $"how the numeric groups (stats, recent) enter the head: raw (the values) or periodic (the values and their learned periodic embeddings, PLR); liber train default {BackboneOptions.TrainDefaults.Numeric.ToString().ToLowerInvariant()}, chosen on validation; experiment files: raw unless the backbone record says \"numeric\": \"periodic\"" };

    /// <summary>--set key=value (repeatable): any backbone option by its config key.</summary>
    public Option<string[]> Set { get; } = new("--set") { Description = $"set a backbone option by its config key, repeatable, e.g. --set embedding_size=64 --set hidden=256,128 --set attention_heads=4 --set cross_layers=2; keys: {string.Join(", ", BackboneOptionSettings.Keys)}", AllowMultipleArgumentsPerToken = false };

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
        Stats.AcceptOnlyFromAmong("on", "off", "item");
        Recent.AcceptOnlyFromAmong("on", "off");
        Ratings.AcceptOnlyFromAmong("level", "sentiment", "none");
        Numeric.AcceptOnlyFromAmong("raw", "periodic");
        foreach (Option o in All)
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

        // The settings are applied to the defaults once here, so a bad key or value stops before any work.
        _ = BackboneOptionSettings.Apply(new BackboneOptions(), Settings(r));
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
        BackboneOptions flagged = options with
        {
            Dropout = r.GetValue(Dropout) ?? options.Dropout,
            UserId = r.GetValue(UserId) is string u ? u == "on" : options.UserId,
            Stats = r.GetValue(Stats) is string s ? s != "off" : options.Stats,
            StatsScope = r.GetValue(Stats) switch { "item" => StatsScope.Item, "on" or "off" => StatsScope.All, _ => options.StatsScope },
            Recent = r.GetValue(Recent) is string w ? w == "on" : options.Recent,
            Ratings = r.GetValue(Ratings) is string ratings ? Enum.Parse<RatingEncoding>(ratings, ignoreCase: true) : options.Ratings,
            Numeric = r.GetValue(Numeric) is string numeric ? Enum.Parse<NumericEncoding>(numeric, ignoreCase: true) : options.Numeric,
        };
        return BackboneOptionSettings.Apply(flagged, Settings(r));
    }

    /// <summary>Intra-op threads: the flag, else 1.</summary>
    public int ThreadCount(ParseResult r) => r.GetValue(Threads) ?? 1;

    /// <summary>An experiment file's training spec with the given flags over it (<c>liber run</c>: flags override the file and its grid's variants).</summary>
    public TrainingSpec Apply(ParseResult r, TrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(spec);
        TrainingSpec flagged = spec with
        {
            Epochs = r.GetValue(Epochs) ?? spec.Epochs,
            Patience = r.GetValue(Patience) ?? spec.Patience,
            BatchSize = r.GetValue(BatchSize) ?? spec.BatchSize,
            LearningRate = r.GetValue(LearningRate) ?? spec.LearningRate,
            WeightDecay = r.GetValue(WeightDecay) ?? spec.WeightDecay,
            Dropout = r.GetValue(Dropout) ?? spec.Dropout,
            UserId = r.GetValue(UserId) is string u ? u == "on" : spec.UserId,
            Stats = r.GetValue(Stats) is string s ? s != "off" : spec.Stats,
            Recent = r.GetValue(Recent) is string w ? w == "on" : spec.Recent,
            Threads = r.GetValue(Threads) ?? spec.Threads,
            Device = r.GetValue(Device) ?? spec.Device,
        };
        IReadOnlyList<KeyValuePair<string, string>> settings = Settings(r);
        if (r.GetValue(Ratings) is string ratings)
        {
            settings = [new("ratings", ratings), .. settings];
        }

        if (r.GetValue(Numeric) is string numeric)
        {
            settings = [new("numeric", numeric), .. settings];
        }

        if (r.GetValue(Stats) is "item" || (r.GetValue(Stats) is "on" && spec.Backbone?.StatsScope == StatsScope.Item))
        {
            // --stats item reads the item's statistics only; --stats on over a file that said item reads them all again.
            settings = [new("stats_scope", r.GetValue(Stats) == "item" ? "item" : "all"), .. settings];
        }

        if (settings.Count == 0)
        {
            return flagged;
        }

        // The settings go into the embedded backbone record; a shorthand key they also set (dropout, user_id, stats) takes
        // their value, so the flag wins over the file whichever way the file spelt it.
        BackboneOptions resolved = BackboneOptionSettings.Apply(flagged.BackboneOptions(), settings);
        bool Sets(string key) => settings.Any(k => k.Key == key);
        return flagged with
        {
            Backbone = BackboneOptionSettings.Apply(flagged.Backbone ?? new BackboneOptions(), settings),
            Dropout = Sets("dropout") ? resolved.Dropout : flagged.Dropout,
            UserId = Sets("user_id") ? resolved.UserId : flagged.UserId,
            Stats = Sets("stats") ? resolved.Stats : flagged.Stats,
            Recent = Sets("recent") ? resolved.Recent : flagged.Recent,
        };
    }

    /// <summary>The <c>--set</c> values as key/value pairs, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Settings(ParseResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return BackboneOptionSettings.Parse(r.GetValue(Set) ?? []);
    }

    /// <summary>Whether any of the flags was given.</summary>
    public bool AnyGiven(ParseResult r) => All.Any(o => r.GetResult(o) is { Implicit: false });

    private Option[] All => [Epochs, Patience, BatchSize, LearningRate, WeightDecay, Dropout, UserId, Stats, Recent, Ratings, Numeric, Set, Threads, Device];

    private static void Check<T>(ParseResult r, Option<T?> option, Func<T, bool> ok, string expected)
        where T : struct
    {
        if (r.GetValue(option) is T v && !ok(v))
        {
            throw new ArgumentException(FormattableString.Invariant($"{option.Name} {v}: out of range; it must be {expected}"));
        }
    }
}
