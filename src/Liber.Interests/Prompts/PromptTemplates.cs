using System.Reflection;

namespace Liber.Interests.Prompts;

/// <summary>
/// One domain's versioned prompt templates (embedded resources under <c>Prompts/&lt;version&gt;/&lt;domain&gt;/</c>).
/// The <see cref="Version"/> string is part of every cache key, so editing a template means bumping it.
/// </summary>
/// <param name="Domain">movies, music or generic.</param>
/// <param name="Version">Template version, e.g. <c>uil-v1</c>.</param>
/// <param name="System">System message.</param>
/// <param name="Summary">Summary prompt (cascade: carries the previous partition's summary).</param>
/// <param name="Shift">Shift prompt: previous and current summaries.</param>
/// <param name="OneCall">One-call prompt asking for a JSON object with both texts.</param>
public sealed record PromptSet(string Domain, string Version, string System, string Summary, string Shift, string OneCall);

/// <summary>The catalog of prompt template sets.</summary>
public static class PromptTemplates
{
    /// <summary>The template version in force (part of every cache key).</summary>
    public const string CurrentVersion = "uil-v1";

    private const string Folder = "v1";

    /// <summary>The domains that have a template set.</summary>
    public static IReadOnlyList<string> Domains { get; } = ["movies", "music", "generic"];

    /// <summary>Loads a domain's templates.</summary>
    /// <exception cref="ArgumentException">The domain has no template set.</exception>
    public static PromptSet Load(string domain)
    {
        if (!Domains.Contains(domain))
        {
            throw new ArgumentException($"unknown prompt domain '{domain}'; known: {string.Join(", ", Domains)}", nameof(domain));
        }

        return new PromptSet(domain, CurrentVersion, Read(domain, "system"), Read(domain, "summary"), Read(domain, "shift"), Read(domain, "onecall"));
    }

    /// <summary>The default domain of a data set kind: movies for MovieLens and the synthetic world, music for Last.fm, generic otherwise.</summary>
    public static string DomainFor(string datasetKind) => datasetKind switch
    {
        _ when datasetKind.StartsWith("movielens", StringComparison.Ordinal) || datasetKind == "synthetic" => "movies",
        _ when datasetKind.Contains("lastfm", StringComparison.Ordinal) || datasetKind.Contains("music", StringComparison.Ordinal) => "music",
        _ => "generic",
    };

    private static string Read(string domain, string name)
    {
        string resource = $"Liber.Interests.Prompts.{Folder}/{domain}/{name}.txt";
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"prompt template resource '{resource}' is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
