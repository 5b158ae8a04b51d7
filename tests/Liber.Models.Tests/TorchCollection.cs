namespace Liber.Models.Tests;

/// <summary>TorchSharp seeds and thread counts are process-wide: every torch test runs in this one collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "torch";
}
