namespace Liber.Serve;

/// <summary>Loads the rank model of a checkpoint folder.</summary>
public static class ServeModels
{
    /// <summary>The loader <c>liber serve --checkpoint</c> uses; null until the scorer is available in this build.</summary>
    public static Func<string, IRankModel>? Loader => null;
}
