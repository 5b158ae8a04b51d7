using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Liber.Cli.Probe;
using Liber.Core.Partitioning;
using Liber.Interests.Prompts;
using Liber.Interests.Template;
using Liber.Knowledge;
using Liber.Knowledge.Encoders;
using Liber.Knowledge.Probe;

namespace Liber.Cli.Commands;

/// <summary>
/// <c>liber probe</c>: where is a partition's information lost? From each partition's vector, linear probes trained on some users
/// and scored on the others predict that partition's own statistics (<see cref="PartitionProbe"/>). Run for several vector kinds
/// (template texts through an encoder, or the <c>stats</c> vector, the upper bound of what template texts can carry), it tells in
/// minutes, without training a CTR model, whether the vectors keep what the texts say.
/// </summary>
public static class ProbeCommand
{
    /// <summary>The vector kinds: template summaries of each writer version through the encoder, and the statistics vector (not an LLM or encoder).</summary>
    public static IReadOnlyList<string> Kinds { get; } = [.. TemplateInterestWriter.Versions, "stats"];

    /// <summary>Creates the <c>probe</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("probe", "linear probes: how much of each partition's own statistics (dominant category, liking, activity ...) its vector keeps, on held-out users");
        var ds = new DatasetOptions();
        ds.AddTo(cmd);
        var po = new PartitionCommand.PolicyOptions();
        po.AddTo(cmd);
        var vectors = new Option<string[]>("--vectors")
        {
            Description = $"vector kinds to probe: {string.Join(", ", Kinds)} (template-*: the writer's summary of the partition through --encoder; stats: the statistics vector, no text)",
            DefaultValueFactory = _ => [.. Kinds],
            AllowMultipleArgumentsPerToken = true,
        };
        vectors.AcceptOnlyFromAmong([.. Kinds]);
        var encoder = new Option<string>("--encoder") { Description = "text encoder of the template kinds: " + string.Join(", ", KnowledgeEncoders.Names.Where(n => n != KnowledgeEncoders.OpenAI)), DefaultValueFactory = _ => KnowledgeEncoders.Default };
        encoder.AcceptOnlyFromAmong([.. KnowledgeEncoders.Names.Where(n => n != KnowledgeEncoders.OpenAI)]);
        var cache = new Option<string?>("--cache") { Description = "embedding cache file (SQLite): a rerun encodes nothing already encoded" };
        var maxUsers = new Option<int?>("--max-users") { Description = "probe only the partitions of the first N users (by id), for a quick look" };
        var testShare = new Option<double>("--test-share") { Description = "share of users held out to score the probes", DefaultValueFactory = _ => 0.3 };
        var probeSeed = new Option<int>("--probe-seed") { Description = "seed of the user split", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { vectors, encoder, cache, maxUsers, testShare, probeSeed, json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (r, ct) =>
        {
            FlagChecks.InRange(r, testShare, 0, 1, minOpen: true, maxOpen: true);
            if (r.GetValue(maxUsers) is int m && m < 2)
            {
                throw new ArgumentException($"--max-users {m}: the probe needs at least 2 users (some to train on, some to score)");
            }

            (PartitionOptions options, IPartitionPolicy policy, var dataset, var streams, var features) = po.Load(r, ds);
            PartitionSet set = PartitionSet.Build(streams, policy, options.Caps, features);
            Partition[] parts = [.. set.All.Where(p => r.GetValue(maxUsers) is not int max || p.User < max)];
            if (parts.Length == 0)
            {
                throw new ArgumentException($"{dataset.Source}: no closed partition to probe (policy {options.Policy}); lower --k or use more users");
            }

            IReadOnlyList<ProbeTarget> targets = PartitionProbe.Targets(streams, parts);
            int[] users = [.. parts.Select(p => p.User)];
            string domain = PromptTemplates.DomainFor(dataset.Kind);
            var report = new ProbeReport
            {
                Dataset = dataset.Kind,
                Source = dataset.Source,
                Policy = options.Policy,
                Partitions = parts.Length,
                Users = users.Distinct().Count(),
                Encoder = r.GetValue(encoder)!,
            };
            foreach (string kind in r.GetValue(vectors)!.Distinct(StringComparer.Ordinal))
            {
                float[][] vs;
                if (kind == "stats")
                {
                    var stats = new PartitionStatsEncoder(streams, dataset.Scale.DefaultThreshold);
                    vs = [.. parts.Select(stats.Encode)];
                }
                else
                {
                    var writer = new TemplateInterestWriter(streams, domain, kind);
                    string[] texts = [.. parts.Select(p => writer.Summarize(p.User, p.Start, p.End))];
                    using var knowledge = KnowledgeEncoder.Create(r.GetValue(encoder)!, r.GetValue(cache));
                    EncodeResult encoded = await knowledge.EncodeAsync(texts, cancellationToken: ct).ConfigureAwait(false);
                    vs = encoded.Vectors.ToJagged();
                }

                foreach (ProbeScore s in VectorProbe.Run(vs, users, targets, r.GetValue(testShare), r.GetValue(probeSeed)))
                {
                    report.Scores.Add(new ProbeRow(kind, kind == "stats" ? "statistics vector (not LLM, no text)" : $"{kind} summaries -> {report.Encoder}", s.Target, s.Metric, s.Score, s.Baseline, s.TrainRows, s.TestRows));
                }
            }

            if (r.GetValue(json))
            {
                await io.Output.WriteLineAsync(JsonSerializer.Serialize(report, DataCommand.Json)).ConfigureAwait(false);
            }
            else
            {
                Write(io.Output, report);
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }

    private static void Write(TextWriter output, ProbeReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"{report.Dataset} ({report.Source}): {report.Partitions:N0} partitions of {report.Users:N0} users, policy {report.Policy}; probes scored on held-out users"));
        output.WriteLine("vectors                                    target                      metric    score  baseline");
        foreach (ProbeRow row in report.Scores)
        {
            output.WriteLine(string.Create(inv, $"{row.Vectors,-42} {row.Target,-27} {row.Metric,-8} {row.Score,6:F3} {row.Baseline,9:F3}"));
        }
    }

    /// <summary>The probe's output.</summary>
    public sealed class ProbeReport
    {
        /// <summary>Data set kind.</summary>
        [JsonPropertyName("dataset")] public required string Dataset { get; init; }

        /// <summary>Where it came from.</summary>
        [JsonPropertyName("source")] public required string Source { get; init; }

        /// <summary>Partition policy.</summary>
        [JsonPropertyName("policy")] public required string Policy { get; init; }

        /// <summary>Partitions probed.</summary>
        [JsonPropertyName("partitions")] public int Partitions { get; init; }

        /// <summary>Their users.</summary>
        [JsonPropertyName("users")] public int Users { get; init; }

        /// <summary>Text encoder of the template kinds.</summary>
        [JsonPropertyName("encoder")] public required string Encoder { get; init; }

        /// <summary>One row per (vector kind, target).</summary>
        [JsonPropertyName("scores")] public List<ProbeRow> Scores { get; } = [];
    }

    /// <summary>One probe's score.</summary>
    /// <param name="Kind">Vector kind.</param>
    /// <param name="Vectors">What the vectors are, in words.</param>
    /// <param name="Target">Probe target.</param>
    /// <param name="Metric">accuracy or r2.</param>
    /// <param name="Score">Score on the held-out users.</param>
    /// <param name="Baseline">The trivial predictor's score.</param>
    /// <param name="TrainRows">Training vectors.</param>
    /// <param name="TestRows">Held-out vectors.</param>
    public sealed record ProbeRow(
        [property: JsonPropertyName("kind")] string Kind,
        [property: JsonPropertyName("vectors")] string Vectors,
        [property: JsonPropertyName("target")] string Target,
        [property: JsonPropertyName("metric")] string Metric,
        [property: JsonPropertyName("score")] double Score,
        [property: JsonPropertyName("baseline")] double Baseline,
        [property: JsonPropertyName("train_rows")] int TrainRows,
        [property: JsonPropertyName("test_rows")] int TestRows);
}
