// Marks the symbol-version requirements of an ELF shared library weak when the system library
// that should provide them is too old.
//
// Why: TorchSharp 0.107.0's libLibTorchSharp.so was linked against a libstdc++ that defines
// GLIBCXX_3.4.32; Debian 12 ships GLIBCXX_3.4.30. The only symbol bound to that version,
// _ZSt21ios_base_library_initv, is never called, but the loader refuses the whole library (and
// TorchSharp then wrongly reports libtorch as "not restored"). Setting VER_FLG_WEAK on the
// Vernaux entry of a missing version turns the hard failure into a loader note.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory as the PatchElfVersionNeeds
// task (build/TorchSharpGlibcxx.targets), and into Liber.Models.Tests with
// LIBER_ELF_PATCH_NO_MSBUILD defined so the ELF logic is tested without MSBuild.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Liber.Build
{
    /// <summary>One version requirement (Vernaux) of an ELF file.</summary>
    public sealed class ElfVersionNeed
    {
        /// <summary>Creates a version requirement record.</summary>
        public ElfVersionNeed(string file, string version, ushort flags, long flagsOffset)
        {
            File = file;
            Version = version;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        /// <summary>The needed library (vn_file), e.g. libstdc++.so.6.</summary>
        public string File { get; }

        /// <summary>The needed version (vna_name), e.g. GLIBCXX_3.4.32.</summary>
        public string Version { get; }

        /// <summary>vna_flags; bit 0x2 is VER_FLG_WEAK.</summary>
        public ushort Flags { get; }

        /// <summary>File offset of vna_flags.</summary>
        public long FlagsOffset { get; }

        /// <summary>Whether the requirement is weak.</summary>
        public bool IsWeak => (Flags & ElfVersions.VerFlgWeak) != 0;
    }

    /// <summary>Reads and patches the GNU symbol-versioning sections of 64-bit little-endian ELF files.</summary>
    public static class ElfVersions
    {
        /// <summary>VER_FLG_WEAK from elf.h.</summary>
        public const ushort VerFlgWeak = 0x2;

        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>All version requirements (.gnu.version_r) of an ELF file.</summary>
        public static List<ElfVersionNeed> ReadNeeds(string path)
        {
            byte[] elf = System.IO.File.ReadAllBytes(path);
            var result = new List<ElfVersionNeed>();
            foreach (Section s in Sections(elf, path))
            {
                if (s.Type != ShtGnuVerneed)
                {
                    continue;
                }

                Section strtab = Sections(elf, path)[(int)s.Link];
                long vn = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    ushort count = U16(elf, vn + 2);
                    string file = CString(elf, strtab.Offset + U32(elf, vn + 4));
                    long aux = vn + U32(elf, vn + 8);
                    for (int j = 0; j < count; j++)
                    {
                        string name = CString(elf, strtab.Offset + U32(elf, aux + 8));
                        result.Add(new ElfVersionNeed(file, name, U16(elf, aux + 4), aux + 4));
                        aux += U32(elf, aux + 12);
                    }

                    vn += U32(elf, vn + 12);
                }
            }

            return result;
        }

        /// <summary>All version names a library defines (.gnu.version_d), e.g. GLIBCXX_3.4.30.</summary>
        public static HashSet<string> ReadDefinitions(string path)
        {
            byte[] elf = System.IO.File.ReadAllBytes(path);
            var result = new HashSet<string>(StringComparer.Ordinal);
            List<Section> sections = Sections(elf, path);
            foreach (Section s in sections)
            {
                if (s.Type != ShtGnuVerdef)
                {
                    continue;
                }

                Section strtab = sections[(int)s.Link];
                long vd = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    long aux = vd + U32(elf, vd + 12);
                    result.Add(CString(elf, strtab.Offset + U32(elf, aux)));
                    vd += U32(elf, vd + 16);
                }
            }

            return result;
        }

        /// <summary>
        /// Marks weak every requirement of <paramref name="path"/> on <paramref name="library"/> whose
        /// version is not in <paramref name="available"/>. Returns the versions it marked (already weak
        /// ones are not listed again), so the call is idempotent.
        /// </summary>
        public static List<string> MarkMissingWeak(string path, string library, ISet<string> available)
        {
            var marked = new List<string>();
            List<ElfVersionNeed> needs = ReadNeeds(path);
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
            {
                foreach (ElfVersionNeed need in needs)
                {
                    if (need.File != library || available.Contains(need.Version) || need.IsWeak)
                    {
                        continue;
                    }

                    ushort flags = (ushort)(need.Flags | VerFlgWeak);
                    stream.Position = need.FlagsOffset;
                    stream.WriteByte((byte)(flags & 0xff));
                    stream.WriteByte((byte)(flags >> 8));
                    marked.Add(need.Version);
                }
            }

            return marked;
        }

        /// <summary>Sets vna_flags of one requirement (used by tests to restore the original state).</summary>
        public static void SetFlags(string path, ElfVersionNeed need, ushort flags)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            stream.Position = need.FlagsOffset;
            stream.WriteByte((byte)(flags & 0xff));
            stream.WriteByte((byte)(flags >> 8));
        }

        /// <summary>The first existing path of the system's libstdc++.so.6, or null.</summary>
        public static string? FindSystemLibrary(string name)
        {
            string[] dirs =
            {
                "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib",
            };
            foreach (string dir in dirs)
            {
                string candidate = Path.Combine(dir, name);
                if (System.IO.File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        private readonly struct Section
        {
            public Section(uint type, long offset, uint link, uint info)
            {
                Type = type;
                Offset = offset;
                Link = link;
                Info = info;
            }

            public uint Type { get; }
            public long Offset { get; }
            public uint Link { get; }
            public uint Info { get; }
        }

        private static List<Section> Sections(byte[] elf, string path)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            {
                throw new InvalidDataException($"{path}: not an ELF file");
            }

            if (elf[4] != 2 || elf[5] != 1)
            {
                throw new InvalidDataException($"{path}: only 64-bit little-endian ELF files are supported");
            }

            long shoff = (long)U64(elf, 0x28);
            ushort shentsize = U16(elf, 0x3A);
            ushort shnum = U16(elf, 0x3C);
            var sections = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                sections.Add(new Section(U32(elf, h + 4), (long)U64(elf, h + 24), U32(elf, h + 40), U32(elf, h + 44)));
            }

            return sections;
        }

        private static ushort U16(byte[] b, long o) => (ushort)(b[o] | (b[o + 1] << 8));

        private static uint U32(byte[] b, long o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

        private static ulong U64(byte[] b, long o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);

        private static string CString(byte[] b, long o)
        {
            long end = o;
            while (end < b.Length && b[end] != 0)
            {
                end++;
            }

            return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
        }
    }

#if !LIBER_ELF_PATCH_NO_MSBUILD
    /// <summary>MSBuild task: patches every libLibTorchSharp.so under a folder when the system libstdc++ lacks a needed version.</summary>
    public sealed class PatchElfVersionNeeds : Microsoft.Build.Utilities.Task
    {
        /// <summary>The folder to search (the build output).</summary>
        [Microsoft.Build.Framework.Required]
        public string Directory { get; set; } = string.Empty;

        /// <inheritdoc />
        public override bool Execute()
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux) || !System.IO.Directory.Exists(Directory))
            {
                return true;
            }

            string? libstdcxx = ElfVersions.FindSystemLibrary("libstdc++.so.6");
            if (libstdcxx == null)
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "Liber: no system libstdc++.so.6 found; TorchSharp native library left unchanged.");
                return true;
            }

            HashSet<string> available = ElfVersions.ReadDefinitions(libstdcxx);
            foreach (string file in System.IO.Directory.EnumerateFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories))
            {
                List<string> marked = ElfVersions.MarkMissingWeak(file, "libstdc++.so.6", available);
                if (marked.Count > 0)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"Liber: {libstdcxx} lacks {string.Join(", ", marked)}; marked weak in {file}");
                }
            }

            return true;
        }
    }
#endif
}
