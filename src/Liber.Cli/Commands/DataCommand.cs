using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Liber.Core.Streams;
using Spectre.Console;

namespace Liber.Cli.Commands;

/// <summary><c>liber data stats</c>: loads a data set and prints its protocol statistics.</summary>
public static class DataCommand
{
    /// <summary>JSON output options shared by the verbs.</summary>
    public static JsonSerializerOptions Json { get; } = new() { WriteIndented = true };

    /// <summary>Creates the <c>data</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var data = new Command("data", "inspect data sets");
        var stats = new Command("stats", "load a data set, build user streams and the temporal split, and print the statistics");
        var ds = new DatasetOptions();
        ds.AddTo(stats);
        var minHistory = new Option<int>("--min-history") { Description = "exclude samples with fewer earlier events", DefaultValueFactory = _ => 5 };
        var threshold = new Option<float?>("--threshold") { Description = "label threshold: rating >= threshold is a positive (default: the data set's, 4 for MovieLens)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of a table" };
        var negatives = new NegativeFlags();
        negatives.AddTo(stats);
        stats.Options.Add(minHistory);
        stats.Options.Add(threshold);
        stats.Options.Add(json);
        stats.SetAction(r =>
        {
            ds.Validate(r);
            FlagChecks.AtLeast(r, minHistory, 0);
            var dataset = ds.Load(r);
            if (r.GetValue(threshold) is float t && !(t >= dataset.Scale.Min && t <= dataset.Scale.Max))
            {
                // Outside the scale every event is a positive, or none is: a silent 0 % is no statistic.
                string scale = string.Create(CultureInfo.InvariantCulture, $"{dataset.Scale.Min:0.##} to {dataset.Scale.Max:0.##}");
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--threshold {t:0.##}: outside the rating scale of {dataset.Source} ({scale}); give a threshold from {scale}, e.g. {dataset.Scale.DefaultThreshold:0.##}"));
            }

            var streams = UserStreams.Build(dataset);
            var samples = SampleSet.Build(streams, negatives.Apply(r, new SampleOptions { MinHistory = r.GetValue(minHistory), Threshold = r.GetValue(threshold) }));
            var s = DatasetStats.Of(samples);
            if (r.GetValue(json))
            {
                io.Output.WriteLine(JsonSerializer.Serialize(s, Json));
            }
            else
            {
                WriteTable(io.Output, s);
            }

            return LiberCommand.Ok;
        });
        data.Subcommands.Add(stats);
        return data;
    }

    /// <summary>Prints the statistics as a readable table.</summary>
    public static void WriteTable(TextWriter output, DatasetStats s)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        var table = new Table().Title($"{s.Dataset}: {s.Source}").AddColumn("statistic").AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        Row("users", N(s.Users));
        Row("items (with events)", N(s.Items));
        Row("catalog items", N(s.CatalogItems));
        Row("events", N(s.Events));
        if (s.NegativeSampling is string sampling)
        {
            Row("positives (implicit: every event)", N(s.Positives));
            Row($"negatives per positive ({sampling})", N(s.NegativesPerPositive));
        }
        else
        {
            Row($"positives (rating >= {s.Threshold.ToString(CultureInfo.InvariantCulture)})", $"{N(s.Positives)} ({(s.Events == 0 ? 0 : 100.0 * s.Positives / s.Events):F1}%)");
        }

        Row("duplicates dropped", N(s.DuplicatesDropped));
        Row("bad rows skipped", N(s.BadRowsSkipped));
        foreach (var (reason, count) in s.BadRowsByReason)
        {
            Row($"  {reason}", N(count));
        }

        foreach (var (what, count) in s.RowsFolded)
        {
            Row($"rows folded: {what}", N(count));
        }

        Row($"excluded by min_history={s.MinHistory}", N(s.MinHistoryExcluded));
        Row("samples", N(s.Samples));
        Row("train / valid / test", $"{N(s.Train)} / {N(s.Valid)} / {N(s.Test)}");
        Row("train ends at", Time(s.TrainEndTimestamp));
        Row("valid ends at", Time(s.ValidEndTimestamp));
        Row("events per user (min / median / max)", $"{s.HistoryLength.Min} / {s.HistoryLength.Median} / {s.HistoryLength.Max}");
        console.Write(table);
    }

    private static string Time(long? ts) => ts is long t
        ? $"{t} ({DateTimeOffset.FromUnixTimeSeconds(t).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC)"
        : "-";
}
