namespace Liber.Serve.Tests;

/// <summary>TorchSharp seeds and thread counts are process-wide, and the encoder is heavy: these tests run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "torch";
}
