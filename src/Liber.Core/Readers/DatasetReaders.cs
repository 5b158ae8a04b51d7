using Liber.Core.Data;
using Liber.Core.Synthetic;

namespace Liber.Core.Readers;

/// <summary>What to load: a folder (not needed for <c>synthetic</c>) and how to treat bad rows.</summary>
public sealed record DatasetRequest(string? Path, BadRowPolicy OnBadRow = BadRowPolicy.Fail)
{
    /// <summary>For <c>csv</c>: the column-mapping file (default: <c>liber-csv.json</c> in the folder, else the defaults).</summary>
    public string? MappingFile { get; init; }

    /// <summary>For <c>synthetic</c>: the generator's options.</summary>
    public SyntheticOptions? Synthetic { get; init; }
}

/// <summary>Reads one kind of data set.</summary>
public interface IDatasetReader
{
    /// <summary>The kind name used on the command line.</summary>
    string Kind { get; }

    /// <summary>One line on what it reads.</summary>
    string Description { get; }

    /// <summary>Loads the data set.</summary>
    Dataset Read(DatasetRequest request);
}

/// <summary>The catalog of readers: one explicit line per kind.</summary>
public static class DatasetReaders
{
    /// <summary>Every reader, in the order shown in help.</summary>
    public static IReadOnlyList<IDatasetReader> All { get; } =
    [
        new MovieLens100KReader(),
        new MovieLens1MReader(),
        new MovieLensLatestReader(),
        new LastFm2KReader(),
        new CsvDatasetReader(),
        new SyntheticReader(),
    ];

    /// <summary>The reader of a kind, or an <see cref="ArgumentException"/> listing the kinds.</summary>
    public static IDatasetReader Get(string kind) =>
        All.FirstOrDefault(r => string.Equals(r.Kind, kind, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown data set kind '{kind}'; known kinds: {string.Join(", ", All.Select(r => r.Kind))}");

    /// <summary>Loads a data set of a kind.</summary>
    public static Dataset Load(string kind, DatasetRequest request) => Get(kind).Read(request);

    /// <summary>The folder of a request, checked to exist.</summary>
    internal static string RequireFolder(DatasetRequest request, string kind)
    {
        if (string.IsNullOrWhiteSpace(request.Path))
        {
            throw new ArgumentException($"data set '{kind}' needs --path <folder>");
        }

        if (!Directory.Exists(request.Path))
        {
            throw new DataFormatException(request.Path, 0, "folder not found");
        }

        return request.Path;
    }
}
