// OnlineScorer latency (not a unit test: figures go into the report). Weights are untrained (latency does not
// depend on them); the schema is ml-100k's with P = 32 partitions of 384-d vectors.
//   dotnet run -c Release -- [folder] [candidates] [torch-threads] [max-concurrency] [rate] [seconds]
//   dotnet run -c Release -- checkpoint <out-dir> [folder]     (an untrained din+liber(attention) checkpoint, 384-d, P = 32,
//                                                                with vocabulary.json: for load tests of liber serve)
using System.Diagnostics;
using System.Globalization;
using Liber.Core.Readers;
using Liber.Core.Streams;
using Liber.Models;
using Liber.Models.Features;
using Liber.Models.Fusion;
using Liber.Models.Serving;
using Liber.Models.Training;

if (args.Length > 1 && args[0] == "checkpoint")
{
    var ds = DatasetReaders.Load("movielens-100k", new DatasetRequest(args.Length > 2 ? args[2] : "../shared/datasets/ml-100k"));
    SampleSet s = SampleSet.Build(UserStreams.Build(ds));
    FeatureTables t = FeatureTables.Build(s, 32);
    TorchRuntime.Configure(1, 1);
    using (var model = new CtrModel(t.Map, new ModelConfig { Backbone = "din", Fusion = new FusionOptions { InputSize = 384, MaxPartitions = 32 } }))
    {
        Checkpoint.Save(args[1], model);
    }

    CheckpointVocabulary.Build(t, ds).Save(Path.Combine(args[1], Checkpoint.VocabularyFile));
    Console.WriteLine($"untrained din+liber(attention) checkpoint written to {args[1]}");
    return;
}

string folder = args.Length > 0 ? args[0] : "../shared/datasets/ml-100k";
int candidates = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100;
int threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
int concurrency = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
double rate = args.Length > 4 ? double.Parse(args[4], CultureInfo.InvariantCulture) : 200;
double seconds = args.Length > 5 ? double.Parse(args[5], CultureInfo.InvariantCulture) : 10;
bool sync = args.Length > 6 && args[6] == "sync";      // open loop through the blocking Score (thread per waiting request)

var dataset = DatasetReaders.Load("movielens-100k", new DatasetRequest(folder));
SampleSet samples = SampleSet.Build(UserStreams.Build(dataset));
FeatureTables tables = FeatureTables.Build(samples, 32);
TorchRuntime.Configure(threads, 1);
string root = Path.Combine(Path.GetTempPath(), "liber-scorer-bench-" + Guid.NewGuid().ToString("N"));
var rng = new Random(1);
try
{
    foreach ((string name, FusionOptions? fusion) in new (string, FusionOptions?)[] { ("din", null), ("din+liber", new FusionOptions { InputSize = 384, MaxPartitions = 32 }) })
    {
        string dir = Path.Combine(root, name);
        using (var model = new CtrModel(tables.Map, new ModelConfig { Backbone = "din", Fusion = fusion }))
        {
            Checkpoint.Save(dir, model);
        }

        CheckpointVocabulary.Build(tables, dataset).Save(Path.Combine(dir, Checkpoint.VocabularyFile));
        using OnlineScorer scorer = OnlineScorer.Load(dir, concurrency);
        var requests = Enumerable.Range(0, 64).Select(k => (
            User: dataset.Users.External(k),
            History: (IReadOnlyList<HistoryEntry>)Enumerable.Range(0, 1000).Select(_ => new HistoryEntry(dataset.Items.External(rng.Next(dataset.Items.Count)), rng.Next(1, 6))).ToList(),
            Candidates: (IReadOnlyList<string>)Enumerable.Range(0, candidates).Select(_ => dataset.Items.External(rng.Next(dataset.Items.Count))).ToList(),
            Parts: fusion is null ? null : (IReadOnlyList<PartitionVector>)Enumerable.Range(0, 50).Select(_ => new PartitionVector(Vec(), Vec())).ToList())).ToList();

        for (int i = 0; i < 50; i++)
        {
            var r = requests[i % requests.Count];
            scorer.Score(r.User, r.History, r.Candidates, r.Parts);
        }

        // Sequential: one call after the other.
        var lat = new List<double>();
        TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        for (int i = 0; i < 500; i++)
        {
            var r = requests[i % requests.Count];
            long t0 = Stopwatch.GetTimestamp();
            scorer.Score(r.User, r.History, r.Candidates, r.Parts);
            lat.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }

        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / lat.Count;
        Console.WriteLine($"{name} sequential, {candidates} candidates, torch threads {threads}: {Summary(lat)}; CPU {cpuMs:F2} ms per call");

        // Reference: the model's forward alone on a batch the offline collator built from as many real samples.
        (CtrModel reference, _) = Checkpoint.Load(dir);
        using (reference)
        using (PartitionVectors? vectors = fusion is null ? null : new RandomPartitionVectorSource(20, 384).Build(samples))
        {
            var collator = Collator.For(reference, samples, tables, vectors);
            int[] ordinals = [.. Enumerable.Range(samples.Count - candidates, candidates)];
            using var grad = TorchSharp.torch.no_grad();
            var fwd = new List<double>();
            cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            for (int i = 0; i < 300; i++)
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                CtrBatch batch = collator.Build(ordinals);
                long t0 = Stopwatch.GetTimestamp();
                reference.call(batch).sigmoid().data<float>().ToArray();
                fwd.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }

            Console.WriteLine($"{name} forward alone on {candidates} collated samples: {Summary(fwd)}; CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / fwd.Count:F2} ms per batch (incl. collation)");

            // History once vs per candidate, interleaved in one process so that a shared machine's noise hits both alike: one
            // sample's history (and partitions) copied into every row, against the same row expanded (what the scorer writes).
            var copiedMs = new List<double>();
            var onceMs = new List<double>();
            for (int i = 0; i < 400; i++)
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                CtrBatch collated = collator.Build(ordinals);
                (CtrBatch copied, CtrBatch once) = (OneHistory(collated, expand: false), OneHistory(collated, expand: true));
                foreach ((CtrBatch b, List<double> into) in i % 2 == 0 ? [(copied, copiedMs), (once, onceMs)] : new[] { (once, onceMs), (copied, copiedMs) })
                {
                    long t0 = Stopwatch.GetTimestamp();
                    reference.call(b).sigmoid().data<float>().ToArray();
                    into.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            }

            Console.WriteLine($"{name} forward, one history copied per candidate: {Summary(copiedMs)}");
            Console.WriteLine($"{name} forward, one history computed once:        {Summary(onceMs)}");
        }

        // Open loop: requests start at fixed times whatever the previous ones did; latency from the scheduled time.
        int total = (int)(rate * seconds);
        var open = new double[total];
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task>(total);
        for (int i = 0; i < total; i++)
        {
            double due = i / rate * 1000;
            while (clock.Elapsed.TotalMilliseconds < due)
            {
                Thread.Sleep(Math.Max(0, (int)(due - clock.Elapsed.TotalMilliseconds) - 1));
            }

            int k = i;
            tasks.Add(Task.Run(async () =>
            {
                var r = requests[k % requests.Count];
                if (sync)
                {
                    scorer.Score(r.User, r.History, r.Candidates, r.Parts);
                }
                else
                {
                    await scorer.ScoreAsync(r.User, r.History, r.Candidates, r.Parts);
                }

                open[k] = clock.Elapsed.TotalMilliseconds - due;
            }));
        }

        Task.WaitAll(tasks);
        Console.WriteLine($"{name} open loop {rate}/s for {seconds} s (achieved {total / clock.Elapsed.TotalSeconds:F0}/s), max concurrency {concurrency}, {(sync ? "Score" : "ScoreAsync")}: {Summary([.. open])}");
    }
}
finally
{
    Directory.Delete(root, recursive: true);
}

// Row 0's history and partitions in every row: expanded (stride 0, computed once) or copied (computed per row).
static CtrBatch OneHistory(CtrBatch b, bool expand)
{
    TorchSharp.torch.Tensor Row(TorchSharp.torch.Tensor t)
    {
        long[] shape = t.shape;
        TorchSharp.torch.Tensor first = t.narrow(0, 0, 1).expand(shape);
        return expand ? first : first.contiguous();
    }

    LiberInput? l = b.Liber;
    return new CtrBatch
    {
        Size = b.Size, Users = Row(b.Users), UserIds = b.UserIds, UserFields = Row(b.UserFields), Items = b.Items, ItemCategories = b.ItemCategories,
        ItemFields = b.ItemFields, HistoryItems = Row(b.HistoryItems), HistoryCategories = Row(b.HistoryCategories), HistoryRatings = Row(b.HistoryRatings),
        HistoryMask = Row(b.HistoryMask), Labels = b.Labels, LongHistory = b.LongHistory,
        Liber = l is null ? null : new LiberInput
        {
            Rows = Row(l.Rows!), SummaryTable = l.SummaryTable, ShiftTable = l.ShiftTable, ShiftMask = Row(l.ShiftMask), Mask = Row(l.Mask), Ranks = Row(l.Ranks),
        },
    };
}

float[] Vec() => [.. Enumerable.Range(0, 384).Select(_ => (float)(rng.NextDouble() - 0.5))];

static string Summary(List<double> ms)
{
    ms.Sort();
    double P(double q) => ms[Math.Min(ms.Count - 1, (int)(q * ms.Count))];
    return string.Create(CultureInfo.InvariantCulture, $"p50 {P(0.5):F2} ms, p90 {P(0.9):F2} ms, p99 {P(0.99):F2} ms, max {ms[^1]:F2} ms (n={ms.Count})");
}
