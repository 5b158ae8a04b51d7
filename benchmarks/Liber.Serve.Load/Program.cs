// Load generator for `liber serve` (not a unit test: figures go into the report).
//   dotnet run -c Release -- ingest --url http://127.0.0.1:5080 --api-key K --events 200000 --batch 100 --concurrency 8
//   dotnet run -c Release -- rank --url http://127.0.0.1:5080 --api-key K --users 50 --history 1000 --candidates 100 --rate 200 --seconds 30
//   dotnet run -c Release -- selftest      (both modes, briefly, against an in-process fake service)
using System.CommandLine;
using Liber.Serve.Load;

var root = new RootCommand("load generator for liber serve");
root.Subcommands.Add(Commands.Ingest());
root.Subcommands.Add(Commands.Rank());
root.Subcommands.Add(Commands.SelfTest());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
