using System.CommandLine;
using Liber.Core.Data;
using Liber.Core.Readers;
using Liber.Core.Synthetic;

namespace Liber.Cli.Commands;

/// <summary>The options every verb that loads a data set shares: --dataset, --path, --on-bad-row, --mapping, synthetic sizes.</summary>
public sealed class DatasetOptions
{
    /// <summary>--dataset.</summary>
    public Option<string> Dataset { get; } = new("--dataset", "-d")
    {
        Description = "data set kind: " + string.Join(", ", DatasetReaders.All.Select(r => $"{r.Kind} ({r.Description})")),
        DefaultValueFactory = _ => "synthetic",
    };

    /// <summary>--path.</summary>
    public Option<string?> Path { get; } = new("--path", "-p") { Description = "data set folder (not needed for synthetic)" };

    /// <summary>--on-bad-row.</summary>
    public Option<string> OnBadRow { get; } = new("--on-bad-row")
    {
        Description = "fail (default): stop at the first malformed row, naming file, line and text; skip: skip such rows and count them",
        DefaultValueFactory = _ => "fail",
    };

    /// <summary>--mapping.</summary>
    public Option<string?> Mapping { get; } = new("--mapping") { Description = $"csv only: column-mapping file (default: {CsvDatasetReader.MappingFileName} in the folder)" };

    /// <summary>--seed.</summary>
    public Option<int> Seed { get; } = new("--seed") { Description = "seed of training (shuffling, initial weights, the GBDT peer) and, for the synthetic world, of its generator", DefaultValueFactory = _ => new SyntheticOptions().Seed };

    /// <summary>--users.</summary>
    public Option<int> Users { get; } = new("--users") { Description = "synthetic only: number of users", DefaultValueFactory = _ => new SyntheticOptions().Users };

    /// <summary>--events-per-user.</summary>
    public Option<int> EventsPerUser { get; } = new("--events-per-user") { Description = "synthetic only: mean events per user", DefaultValueFactory = _ => new SyntheticOptions().MeanEvents };

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        OnBadRow.AcceptOnlyFromAmong("fail", "skip");
        foreach (Option o in new Option[] { Dataset, Path, OnBadRow, Mapping, Seed, Users, EventsPerUser })
        {
            command.Options.Add(o);
        }
    }

    /// <summary>Checks the data set flags (kind, synthetic sizes) before any work; the readers check the folder (their messages name what is missing).</summary>
    public void Validate(ParseResult r, string? kindOverride = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        string kind = kindOverride ?? r.GetValue(Dataset) ?? "synthetic";
        if (!DatasetReaders.All.Any(d => string.Equals(d.Kind, kind, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"--dataset {kind}: unknown data set kind; one of {string.Join(", ", DatasetReaders.All.Select(d => d.Kind))}");
        }

        if (kind == "synthetic")
        {
            FlagChecks.AtLeast(r, Users, 1);
            FlagChecks.AtLeast(r, EventsPerUser, 1);
        }
    }

    /// <summary>Loads the data set the options name.</summary>
    public Dataset Load(ParseResult r) => Load(r, null);

    /// <summary>Loads the data set the options name, of <paramref name="kindOverride"/> when given (a checkpoint's kind).</summary>
    public Dataset Load(ParseResult r, string? kindOverride)
    {
        ArgumentNullException.ThrowIfNull(r);
        string kind = kindOverride ?? r.GetValue(Dataset) ?? "synthetic";
        var request = new DatasetRequest(r.GetValue(Path), r.GetValue(OnBadRow) == "skip" ? BadRowPolicy.Skip : BadRowPolicy.Fail)
        {
            MappingFile = r.GetValue(Mapping),
            Synthetic = new SyntheticOptions { Seed = r.GetValue(Seed), Users = r.GetValue(Users), MeanEvents = r.GetValue(EventsPerUser) },
        };
        return DatasetReaders.Load(kind, request);
    }
}
