using System.Text;
using Liber.Core.Data;
using Liber.Core.Readers;

namespace Liber.Core.Tests.Readers;

/// <summary>A fresh temporary folder per test for fixture files; deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "liber-readers-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>The full path of a file in the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes UTF-8 text (no BOM).</summary>
    public string Write(string name, string text) => WriteBytes(name, Utf8NoBom.GetBytes(text));

    /// <summary>Writes Latin-1 (ISO-8859-1) text.</summary>
    public string WriteLatin1(string name, string text) => WriteBytes(name, Encoding.Latin1.GetBytes(text));

    /// <summary>Writes raw bytes.</summary>
    public string WriteBytes(string name, byte[] bytes)
    {
        string path = File(name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Loads the folder as a data set of <paramref name="kind"/>.</summary>
    public Dataset Load(string kind, BadRowPolicy policy = BadRowPolicy.Fail, string? mappingFile = null) =>
        DatasetReaders.Load(kind, new DatasetRequest(Path, policy) { MappingFile = mappingFile });

    /// <summary>Loading must fail with a <see cref="DataFormatException"/>; returns it.</summary>
    public DataFormatException LoadFails(string kind, BadRowPolicy policy = BadRowPolicy.Fail, string? mappingFile = null) =>
        Assert.Throws<DataFormatException>(() => Load(kind, policy, mappingFile));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
