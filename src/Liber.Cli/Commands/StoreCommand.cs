using System.CommandLine;
using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Store;

namespace Liber.Cli.Commands;

/// <summary><c>liber store</c>: maintenance of a SQLite UBSP store (info, rebuild).</summary>
public static class StoreCommand
{
    private const int MaxReasons = 5;

    /// <summary>Creates the <c>store</c> command.</summary>
    public static Command Create(CommandIo io)
    {
        var cmd = new Command("store", "maintain a SQLite UBSP store: info (policy, counts, lock owner), rebuild (replay a store's event log into a new file)");
        cmd.Subcommands.Add(Info(io));
        cmd.Subcommands.Add(Rebuild(io));
        return cmd;
    }

    private static Command Info(CommandIo io)
    {
        var cmd = new Command("info", "print a store's policy, users, events, partitions, interest jobs and the process holding it (read-only; works beside a running owner)");
        var store = new Option<string>("--store") { Description = "the store file", Required = true };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        cmd.Options.Add(store);
        cmd.Options.Add(json);
        cmd.SetAction(r =>
        {
            StoreInfo i = StoreRebuild.Inspect(r.GetValue(store)!);
            if (r.GetValue(json))
            {
                io.Output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["path"] = i.Path, ["policy"] = i.Policy, ["users"] = i.Users, ["events"] = i.Events, ["partitions"] = i.Partitions,
                    ["pending_jobs"] = i.PendingJobs, ["failed_jobs"] = i.FailedJobs, ["items"] = i.Items, ["owner"] = i.Owner,
                }));
            }
            else
            {
                io.Output.WriteLine($"store {i.Path}: policy {i.Policy}");
                io.Output.WriteLine($"{i.Users:N0} users, {i.Events:N0} events, {i.Partitions:N0} partitions, {i.Items:N0} catalog items; interest jobs {i.PendingJobs:N0} pending, {i.FailedJobs:N0} failed");
                io.Output.WriteLine(i.Owner is null ? "not in use" : $"in use by {i.Owner}");
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }

    private static Command Rebuild(CommandIo io)
    {
        var cmd = new Command("rebuild", "replay the event log of a serving store (e.g. one that no longer recovers) into a new store with the same policy, caps, catalog and external ids; the old file is not changed, and what the rules refuse is reported");
        var from = new Option<string>("--from") { Description = "the old store file (only read)", Required = true };
        var to = new Option<string>("--to") { Description = "the new store file (must not exist)", Required = true };
        var batchSize = new Option<int>("--batch-size") { Description = "events per committed batch", DefaultValueFactory = _ => 1000 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        foreach (Option o in new Option[] { from, to, batchSize, json })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (r, ct) =>
        {
            RebuildReport x = await StoreRebuild.RebuildAsync(r.GetValue(from)!, r.GetValue(to)!, new Cl100kTokenCounter(), r.GetValue(batchSize), MaxReasons, ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                await io.Output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["from"] = x.From, ["to"] = x.To, ["logged"] = x.Logged, ["applied"] = x.Applied, ["duplicates"] = x.Duplicates,
                    ["conflicts"] = x.Conflicts, ["rejected"] = x.Rejected, ["partitions"] = x.Partitions, ["reasons"] = x.Reasons,
                })).ConfigureAwait(false);
            }
            else
            {
                await io.Output.WriteLineAsync($"rebuilt {x.From} into {x.To}: {x.Logged:N0} logged events, {x.Applied:N0} applied, {x.Duplicates:N0} duplicates, {x.Conflicts:N0} conflicts, {x.Rejected:N0} rejected; {x.Partitions:N0} partitions (their interest jobs are pending)").ConfigureAwait(false);
                foreach (string reason in x.Reasons)
                {
                    await io.Output.WriteLineAsync($"  not applied: {reason}").ConfigureAwait(false);
                }
            }

            return LiberCommand.Ok;
        });
        return cmd;
    }
}
