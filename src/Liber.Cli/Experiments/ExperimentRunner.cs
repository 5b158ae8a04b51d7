using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Liber.Core.Data;
using Liber.Core.Readers;
using Liber.Core.Synthetic;

namespace Liber.Cli.Experiments;

/// <summary>The LIBER axes of one run.</summary>
public sealed record LiberRun
{
    /// <summary>Partition policy.</summary>
    [JsonPropertyName("policy")] public required PolicySpec Policy { get; init; }

    /// <summary>UIF variant.</summary>
    [JsonPropertyName("fusion")] public required string Fusion { get; init; }

    /// <summary>UIL mode.</summary>
    [JsonPropertyName("mode")] public required string Mode { get; init; }

    /// <summary>Shared LIBER settings.</summary>
    [JsonPropertyName("settings")] public required LiberSpec Settings { get; init; }
}

/// <summary>The resolved configuration of one run: everything that determines its result.</summary>
public sealed record RunSpec
{
    /// <summary>Experiment name.</summary>
    [JsonPropertyName("experiment")] public required string Experiment { get; init; }

    /// <summary>Data set.</summary>
    [JsonPropertyName("dataset")] public required DatasetSpec Dataset { get; init; }

    /// <summary>Samples.</summary>
    [JsonPropertyName("samples")] public required SamplesSpec Samples { get; init; }

    /// <summary>Training.</summary>
    [JsonPropertyName("training")] public required TrainingSpec Training { get; init; }

    /// <summary>Backbone.</summary>
    [JsonPropertyName("backbone")] public required string Backbone { get; init; }

    /// <summary>Seed.</summary>
    [JsonPropertyName("seed")] public int Seed { get; init; }

    /// <summary>LIBER axes, or null without LIBER.</summary>
    [JsonPropertyName("liber")] public LiberRun? Liber { get; init; }

    /// <summary>Canonical JSON (fixed property order, no whitespace).</summary>
    public string CanonicalJson() => JsonSerializer.Serialize(this, ExperimentRunner.Canonical);

    /// <summary>First 12 hex digits of the SHA-256 of the canonical JSON.</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson())))[..12];

    /// <summary>A readable label: backbone, LIBER axes, seed.</summary>
    public string Label()
    {
        string variant = Training.VariantLabel();
        string training = variant.Length == 0 ? "" : $"-{variant}";
        return Liber is { } l
            ? $"{Backbone}+liber-{l.Fusion}-{l.Policy.Label()}-{l.Mode}{(l.Settings.BackendLabel() == l.Settings.Backend ? "" : "-" + l.Settings.BackendLabel())}{training}-s{Seed}"
            : $"{Backbone}{training}-s{Seed}";
    }

    /// <summary>The run's folder name: label and content hash.</summary>
    public string FolderName() => $"{Label()}-{Hash()}";
}

/// <summary>Runs one cell of a grid.</summary>
public interface IRunExecutor
{
    /// <summary>Trains and evaluates <paramref name="spec"/> on <paramref name="dataset"/>, writing progress to <paramref name="log"/>.</summary>
    JsonElement Execute(Dataset dataset, RunSpec spec, TextWriter log);
}

/// <summary>What a grid run did.</summary>
/// <param name="Runs">Cells of the grid.</param>
/// <param name="Executed">Cells run now.</param>
/// <param name="Reused">Cells already finished earlier (not repeated).</param>
/// <param name="Directory">The experiment's output folder.</param>
/// <param name="Busy">Cells another process was running (their folder's lock was held): left to it, not run here.</param>
public sealed record GridOutcome(int Runs, int Executed, int Reused, string Directory, int Busy = 0);

/// <summary>
/// Expands an experiment's grid, runs every cell in its own folder named by label and content hash, holding
/// <c>resolved-config.json</c>, <c>environment.json</c>, <c>results.jsonl</c> and <c>log.txt</c>. A finished cell (its
/// results file exists) is never repeated, so an interrupted grid resumes where it stopped. A cell runs while its
/// folder's <c>run.lock</c> is held exclusively (an OS lock, released when the process ends, however it ends), so two
/// <c>liber run</c> processes over the same or overlapping experiment files never run one cell twice at once: the
/// second leaves a busy cell to the first and goes on with the next.
/// </summary>
public sealed class ExperimentRunner(ExperimentFile file, string outputRoot, IRunExecutor executor, TextWriter progress)
{
    /// <summary>Results file of a run folder.</summary>
    public const string ResultsFile = "results.jsonl";

    /// <summary>Lock file of a run folder, held while the run executes.</summary>
    public const string LockFile = "run.lock";

    /// <summary>Resolved configuration file of a run folder.</summary>
    public const string ConfigFile = "resolved-config.json";

    /// <summary>Canonical serialisation of resolved configurations.</summary>
    public static JsonSerializerOptions Canonical { get; } = new() { WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The experiment's output folder.</summary>
    public string Directory => Path.Combine(outputRoot, file.Name);

    /// <summary>Called after each cell (ordinal from 1, cells, label) is done or found finished.</summary>
    public Action<int, int, string>? CellDone { get; init; }

    /// <summary>Every cell of the grid, in a stable order.</summary>
    public IReadOnlyList<RunSpec> Cells()
    {
        var cells = new List<RunSpec>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string backbone in file.Grid.Backbones)
        {
            foreach (bool liber in file.Grid.Liber)
            {
                IEnumerable<LiberRun?> axes = !liber ? [null] :
                    from fusion in file.Grid.Fusions
                    from policy in file.Grid.Policies
                    from mode in file.Grid.Modes
                    select new LiberRun { Policy = policy, Fusion = fusion, Mode = mode, Settings = file.Liber };
                foreach ((LiberRun? axis, TrainingSpec training) in
                    from a in axes from t in file.Grid.Training?.Select(v => v.Apply(file.Training)) ?? [file.Training] select (a, file.Overrides is { } o ? o(t) : t))
                {
                    foreach (int seed in file.Grid.Seeds)
                    {
                        var spec = new RunSpec
                        {
                            Experiment = file.Name,
                            Dataset = file.Dataset,
                            Samples = file.Samples,
                            Training = training,
                            Backbone = backbone,
                            Seed = seed,
                            Liber = axis,
                        };
                        if (seen.Add(spec.Hash()))
                        {
                            cells.Add(spec);
                        }
                    }
                }
            }
        }

        return cells;
    }

    /// <summary>Whether a run folder holds a finished run.</summary>
    public static bool IsFinished(string runDirectory)
    {
        string results = Path.Combine(runDirectory, ResultsFile);
        return File.Exists(results) && new FileInfo(results).Length > 0;
    }

    /// <summary>Runs every unfinished cell.</summary>
    public GridOutcome Run()
    {
        IReadOnlyList<RunSpec> cells = Cells();
        Dataset? dataset = null;
        int executed = 0, reused = 0, busy = 0;
        System.IO.Directory.CreateDirectory(Directory);
        for (int i = 0; i < cells.Count; i++)
        {
            RunSpec spec = cells[i];
            string dir = Path.Combine(Directory, spec.FolderName());
            if (IsFinished(dir))
            {
                Reuse(i, spec, dir);
                continue;
            }

            System.IO.Directory.CreateDirectory(dir);
            using FileStream? held = TryLock(dir);
            if (held is null)
            {
                busy++;
                progress.WriteLine($"[{i + 1}/{cells.Count}] {spec.Label()}: another process is running it ({Path.Combine(dir, LockFile)} is held), left to it");
                CellDone?.Invoke(i + 1, cells.Count, spec.Label());
                continue;
            }

            if (IsFinished(dir))                                                // finished by another process meanwhile
            {
                Reuse(i, spec, dir);
                continue;
            }

            File.WriteAllText(Path.Combine(dir, ConfigFile), JsonSerializer.Serialize(spec, Indented));
            File.WriteAllText(Path.Combine(dir, "environment.json"), JsonSerializer.Serialize(RunEnvironment.Capture(), Indented));
            dataset ??= LoadDataset(file.Dataset);
            progress.WriteLine($"[{i + 1}/{cells.Count}] {spec.Label()}: running in {dir}");
            var sw = Stopwatch.StartNew();
            using (var log = new StreamWriter(Path.Combine(dir, "log.txt"), append: false) { AutoFlush = true })
            {
                log.WriteLine($"run {spec.Label()} ({spec.Hash()}) started {DateTimeOffset.UtcNow:O}");
                JsonElement result = executor.Execute(dataset, spec, log);
                log.WriteLine($"finished in {sw.Elapsed.TotalSeconds:F1} s");
                var record = new Dictionary<string, object?>
                {
                    ["label"] = spec.Label(),
                    ["hash"] = spec.Hash(),
                    ["finished_at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                    ["result"] = result,
                };

                // Written whole, then moved into place: a results file is either complete or absent.
                string tmp = Path.Combine(dir, ResultsFile + ".tmp");
                File.WriteAllText(tmp, JsonSerializer.Serialize(record) + "\n");
                File.Move(tmp, Path.Combine(dir, ResultsFile), overwrite: true);
            }

            executed++;
            CellDone?.Invoke(i + 1, cells.Count, spec.Label());
        }

        return new GridOutcome(cells.Count, executed, reused, Directory, busy);

        void Reuse(int i, RunSpec spec, string dir)
        {
            reused++;
            progress.WriteLine($"[{i + 1}/{cells.Count}] {spec.Label()}: finished earlier, not repeated ({dir})");
            CellDone?.Invoke(i + 1, cells.Count, spec.Label());
        }
    }

    /// <summary>Whether a process is running the cell of <paramref name="runDirectory"/> now (its lock is held).</summary>
    public static bool IsRunning(string runDirectory)
    {
        if (!File.Exists(Path.Combine(runDirectory, LockFile)))
        {
            return false;
        }

        using FileStream? probe = TryLock(runDirectory);
        return probe is null;
    }

    /// <summary>
    /// Takes the run folder's lock without waiting: the open stream (dispose it to release; the file is deleted
    /// then), or null when another process (or another runner in this one) holds it. FileShare.None is an
    /// exclusive OS lock on every platform .NET runs on (flock on Unix), so a crashed process releases it.
    /// </summary>
    public static FileStream? TryLock(string runDirectory)
    {
        string path = Path.Combine(runDirectory, LockFile);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }
    }

    /// <summary>Loads the data set of a spec.</summary>
    public static Dataset LoadDataset(DatasetSpec d)
    {
        var defaults = new SyntheticOptions();
        var request = new DatasetRequest(d.Path, d.OnBadRow == "skip" ? BadRowPolicy.Skip : d.OnBadRow == "fail" ? BadRowPolicy.Fail
            : throw new ArgumentException($"dataset.on_bad_row must be fail or skip, got '{d.OnBadRow}'"))
        {
            MappingFile = d.Mapping,
            Synthetic = new SyntheticOptions { Users = d.Users ?? defaults.Users, MeanEvents = d.EventsPerUser ?? defaults.MeanEvents, Seed = d.WorldSeed ?? defaults.Seed },
        };
        return DatasetReaders.Load(d.Kind, request);
    }
}
