namespace Liber.Core.Tests.Readers;

/// <summary>Locates the shared real data sets (<c>shared/datasets</c>) above the test binaries.</summary>
public static class RealData
{
    private static readonly Lazy<string?> Root = new(Find);

    /// <summary>The <c>shared/datasets</c> folder, or null when none is found.</summary>
    public static string? DatasetsRoot => Root.Value;

    /// <summary>The folder of one data set (e.g. <c>ml-100k</c>), or null when absent.</summary>
    public static string? Folder(string name)
    {
        string? root = DatasetsRoot;
        if (root is null)
        {
            return null;
        }

        string dir = Path.Combine(root, name);
        return Directory.Exists(dir) ? dir : null;
    }

    /// <summary>The folder of a data set, for tests that only run when it exists.</summary>
    public static string Require(string name) =>
        Folder(name) ?? throw new InvalidOperationException($"{name} not found under shared/datasets");

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "datasets");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A fact that is reported as skipped (never silently passed) when a real data set is absent.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute(string dataset)
    {
        Dataset = dataset;
        if (RealData.Folder(dataset) is null)
        {
            Skip = RealData.DatasetsRoot is null
                ? $"../shared/datasets not found: no folder 'shared/datasets' above {AppContext.BaseDirectory}"
                : $"../shared/datasets found at {RealData.DatasetsRoot} but it has no '{dataset}' folder";
        }
    }

    /// <summary>The data set folder name the test needs.</summary>
    public string Dataset { get; }
}
