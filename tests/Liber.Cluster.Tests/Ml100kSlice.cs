using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Readers;
using Liber.Core.Storage;
using Liber.Core.Streams;
using Liber.Core.Tests.Readers;

namespace Liber.Cluster.Tests;

/// <summary>ml-100k loaded once for the cluster tests: the data set, its user streams and the cluster's settings (the default policy: count k=20, default caps, cl100k_base).</summary>
internal sealed class Ml100kSlice
{
    private static readonly Lazy<Ml100kSlice?> Shared = new(Load);

    private Ml100kSlice(Dataset dataset, PartitionOptions options)
    {
        Dataset = dataset;
        Streams = UserStreams.Build(dataset);
        Options = options;
        Settings = UbspSettings.ForDataset(dataset, options, new Cl100kTokenCounter());
    }

    /// <summary>ml-100k, or null when ../shared/datasets has none (the tests that need it are then skipped).</summary>
    public static Ml100kSlice? Instance => Shared.Value;

    public Dataset Dataset { get; }

    public UserStreams Streams { get; }

    public PartitionOptions Options { get; }

    public UbspSettings Settings { get; }

    /// <summary>The events of dense users [from, to) as live traffic: global time order (timestamp, then row), ids = source positions.</summary>
    public List<(int User, ExternalEvent Event)> Traffic(int from, int to)
    {
        var rows = new List<(long Ts, int Row, int User)>();
        for (int u = from; u < to; u++)
        {
            for (int row = Streams.Offsets[u]; row < Streams.Offsets[u + 1]; row++)
            {
                rows.Add((Streams.Timestamps[row], row, u));
            }
        }

        rows.Sort();
        return [.. rows.Select(r => (r.User, new ExternalEvent(Streams.Positions[r.Row], Dataset.Users.External(r.User), Dataset.Items.External(Streams.Items[r.Row]), r.Ts, Streams.Ratings[r.Row])))];
    }

    /// <summary>Batch partitioning of every user's whole stream (the offline reference).</summary>
    public PartitionSet Batch() => PartitionSet.Build(Streams, Settings.Policy, Settings.Caps, Settings.Features);

    /// <summary>A partition without its dense user id (the cluster's dense ids are assigned in its own order of first sight).</summary>
    public static string Key(Partition p) =>
        $"#{p.Number} [{p.Start},{p.End}] t={p.StartTime}..{p.EndTime} tokens={p.PromptTokens} hash={p.ContentHash} ids={string.Join(',', p.EventIds)}";

    private static Ml100kSlice? Load()
    {
        string? folder = RealData.Folder("ml-100k");
        return folder is null ? null : new Ml100kSlice(new MovieLens100KReader().Read(new DatasetRequest(folder)), new PartitionOptions());
    }
}
