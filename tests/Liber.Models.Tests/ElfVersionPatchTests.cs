using Liber.Build;

namespace Liber.Models.Tests;

/// <summary>Tests the GLIBCXX weak-version build step on the real libLibTorchSharp.so of the build output.</summary>
public sealed class ElfVersionPatchTests : IDisposable
{
    private const string LibStdCxx = "libstdc++.so.6";
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "liber-elf-" + Guid.NewGuid().ToString("N"));

    public ElfVersionPatchTests() => Directory.CreateDirectory(_temp);

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string OutputCopy()
    {
        string[] found = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(found);
        return found[0];
    }

    private static HashSet<string> SystemVersions()
    {
        string? lib = ElfVersions.FindSystemLibrary(LibStdCxx);
        Assert.NotNull(lib);
        return ElfVersions.ReadDefinitions(lib);
    }

    [Fact]
    public void Build_output_marks_exactly_the_missing_versions_weak()
    {
        HashSet<string> available = SystemVersions();
        List<ElfVersionNeed> needs = ElfVersions.ReadNeeds(OutputCopy()).Where(n => n.File == LibStdCxx).ToList();
        Assert.Contains(needs, n => n.Version == "GLIBCXX_3.4.32");
        foreach (ElfVersionNeed need in needs)
        {
            Assert.Equal(!available.Contains(need.Version), need.IsWeak);
        }
    }

    [Fact]
    public void System_libstdcxx_definitions_are_read()
    {
        HashSet<string> available = SystemVersions();
        Assert.Contains("GLIBCXX_3.4", available);
        Assert.Contains("CXXABI_1.3", available);
    }

    [Fact]
    public void Patch_marks_missing_versions_once_and_leaves_others_alone()
    {
        string copy = Path.Combine(_temp, "libLibTorchSharp.so");
        File.Copy(OutputCopy(), copy);
        // Restore the file as shipped: no requirement weak.
        foreach (ElfVersionNeed need in ElfVersions.ReadNeeds(copy).Where(n => n.IsWeak))
        {
            ElfVersions.SetFlags(copy, need, (ushort)(need.Flags & ~ElfVersions.VerFlgWeak));
        }

        Assert.DoesNotContain(ElfVersions.ReadNeeds(copy), n => n.IsWeak);
        var pretendOld = new HashSet<string>(ElfVersions.ReadNeeds(copy).Where(n => n.File == LibStdCxx).Select(n => n.Version));
        pretendOld.Remove("GLIBCXX_3.4.32");

        List<string> marked = ElfVersions.MarkMissingWeak(copy, LibStdCxx, pretendOld);

        Assert.Equal(["GLIBCXX_3.4.32"], marked);
        List<ElfVersionNeed> after = ElfVersions.ReadNeeds(copy);
        Assert.Single(after, n => n.IsWeak);
        Assert.True(after.Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
        Assert.Empty(ElfVersions.MarkMissingWeak(copy, LibStdCxx, pretendOld));
    }

    [Fact]
    public void Nothing_is_patched_where_the_system_has_every_version()
    {
        string copy = Path.Combine(_temp, "lib.so");
        File.Copy(OutputCopy(), copy);
        byte[] before = File.ReadAllBytes(copy);
        var all = new HashSet<string>(ElfVersions.ReadNeeds(copy).Select(n => n.Version));

        Assert.Empty(ElfVersions.MarkMissingWeak(copy, LibStdCxx, all));
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [Fact]
    public void A_file_that_is_not_elf_is_refused()
    {
        string bogus = Path.Combine(_temp, "bogus.so");
        File.WriteAllText(bogus, "not an elf file at all, just text that is long enough to have a header....");
        var e = Assert.Throws<InvalidDataException>(() => ElfVersions.ReadNeeds(bogus));
        Assert.Contains("not an ELF file", e.Message, StringComparison.Ordinal);
    }
}
