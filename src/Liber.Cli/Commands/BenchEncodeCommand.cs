using System.CommandLine;
using System.Text.Json;
using Liber.Knowledge;
using Liber.Knowledge.Encoders;

namespace Liber.Cli.Commands;

/// <summary><c>liber bench encode</c>: knowledge-encoder throughput (texts/s per batch size) and embedding-cache throughput.</summary>
public static class BenchEncodeCommand
{
    /// <summary>Creates the <c>bench encode</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("encode", "encode generated ~300-word texts at batch sizes 1, 32, 64 and time the embedding cache; reports texts/s and lookups/s");
        var encoder = new Option<string>("--encoder") { Description = "local encoder: minilm or arctic-xs", DefaultValueFactory = _ => KnowledgeEncoders.MiniLm };
        encoder.AcceptOnlyFromAmong(KnowledgeEncoders.MiniLm, KnowledgeEncoders.ArcticXs);
        var texts = new Option<int>("--texts") { Description = "texts per batch size", DefaultValueFactory = _ => 64 };
        var words = new Option<int>("--words") { Description = "words per text", DefaultValueFactory = _ => 300 };
        var batches = new Option<int[]>("--batch-sizes") { Description = "batch sizes", DefaultValueFactory = _ => [1, 32, 64], AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads (0: automatic)", DefaultValueFactory = _ => 0 };
        var entries = new Option<int>("--cache-entries") { Description = "vectors stored then looked up in a temporary cache file", DefaultValueFactory = _ => 20_000 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { encoder, texts, words, batches, threads, entries, json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (r, ct) =>
        {
            var result = await EncoderBenchmark.RunAsync(
                new EncoderBenchmarkOptions
                {
                    Encoder = r.GetValue(encoder) ?? KnowledgeEncoders.MiniLm,
                    Texts = r.GetValue(texts),
                    Words = r.GetValue(words),
                    BatchSizes = r.GetValue(batches) ?? [1, 32, 64],
                    Threads = r.GetValue(threads),
                    CacheEntries = r.GetValue(entries),
                },
                ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                await io.Output.WriteLineAsync(JsonSerializer.Serialize(result, DataCommand.Json)).ConfigureAwait(false);
                return LiberCommand.Ok;
            }

            await io.Output.WriteLineAsync($"machine: {result.Machine}").ConfigureAwait(false);
            await io.Output.WriteLineAsync($"encoder: {result.Encoder} (loaded in {result.LoadSeconds} s); {result.Texts} texts of {result.WordsPerText} words = {result.TokensPerText} tokens, {result.ChunksPerText} chunks each").ConfigureAwait(false);
            foreach (var b in result.Batches)
            {
                await io.Output.WriteLineAsync($"batch {b.BatchSize,3}: {b.TextsPerSecond,8:N1} texts/s ({b.Seconds} s); {b.TextsPerCpuSecond:N1} texts per CPU-second").ConfigureAwait(false);
            }

            await io.Output.WriteLineAsync($"whole texts (cut at 512 tokens), batch 32: package Encode {result.LibraryTextsPerSecond:N1} texts/s ({result.LibraryTextsPerCpuSecond:N1} per CPU-second), Liber's path {result.OwnPathTextsPerSecond:N1} texts/s ({result.OwnPathTextsPerCpuSecond:N1} per CPU-second)").ConfigureAwait(false);
            await io.Output.WriteLineAsync($"cache ({result.CacheEntries:N0} entries): {result.CacheStoresPerSecond:N0} stores/s, {result.CacheLookupsPerSecond:N0} lookups/s").ConfigureAwait(false);
            await io.Output.WriteLineAsync($"peak working set: {result.PeakWorkingSetMb} MB; load average (1 min) {result.LoadAverage}").ConfigureAwait(false);
            return LiberCommand.Ok;
        });
        return cmd;
    }
}
