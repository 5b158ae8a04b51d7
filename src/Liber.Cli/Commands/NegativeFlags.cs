using System.CommandLine;
using Liber.Core.Streams;

namespace Liber.Cli.Commands;

/// <summary>The implicit-feedback flags (<c>--negatives</c>, <c>--negative-sampling</c>) that <c>data stats</c> and <c>train</c> share, declared once.</summary>
public sealed class NegativeFlags
{
    /// <summary>--negatives.</summary>
    public Option<int?> Negatives { get; } = new("--negatives") { Description = $"implicit data: negatives drawn per positive (default {SampleOptions.DefaultImplicitNegatives}; rated data has its own negatives and takes 0)" };

    /// <summary>--negative-sampling.</summary>
    public Option<NegativeSampling?> Sampling { get; } = new("--negative-sampling") { Description = $"implicit data: popularity (by event counts strictly before the sample) or uniform (default {new SampleOptions().NegativeSampling.ToString().ToLowerInvariant()})" };

    /// <summary>Adds the flags to a command.</summary>
    public void AddTo(Command c)
    {
        ArgumentNullException.ThrowIfNull(c);
        c.Options.Add(Negatives);
        c.Options.Add(Sampling);
    }

    /// <summary><paramref name="options"/> with the given flags over it (range errors are the options' own, one line).</summary>
    public SampleOptions Apply(ParseResult r, SampleOptions options)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(options);
        SampleOptions result = options with
        {
            Negatives = r.GetValue(Negatives) ?? options.Negatives,
            NegativeSampling = r.GetValue(Sampling) ?? options.NegativeSampling,
        };
        result.Validate();
        return result;
    }
}
