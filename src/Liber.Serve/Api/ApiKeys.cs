using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Liber.Serve.Api;

/// <summary>What an endpoint does with the service's state: reads it, or changes it.</summary>
internal enum Access
{
    /// <summary>Interests, rank and (unless opened) metrics: the full key or the read key.</summary>
    Read,

    /// <summary>Events and items: the full key only.</summary>
    Write,
}

/// <summary>
/// The service's API keys: <c>LIBER_API_KEY</c> grants every <c>/v1</c> route, <c>LIBER_READ_API_KEY</c> (optional) grants the
/// read routes only (a read key on a write route is 403). Keys are compared in constant time over SHA-256 digests, so neither
/// their content nor their length leaks through timing.
/// </summary>
internal sealed class ApiKeys
{
    /// <summary>The header clients send the key in.</summary>
    public const string Header = "X-Api-Key";

    private readonly byte[]? _full;
    private readonly byte[]? _read;

    /// <summary>Digests the keys of <paramref name="options"/>; with <see cref="ServeOptions.InsecureNoAuth"/> every request passes.</summary>
    public ApiKeys(ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.InsecureNoAuth)
        {
            return;
        }

        _full = SHA256.HashData(Encoding.UTF8.GetBytes(options.ApiKey ?? throw new InvalidOperationException("the API key is resolved before the endpoints are mapped")));
        _read = options.ReadApiKey is { Length: > 0 } read ? SHA256.HashData(Encoding.UTF8.GetBytes(read)) : null;
    }

    /// <summary>Null when the request may go on, else the 401 or 403 problem to answer (never echoing a key).</summary>
    public IResult? Deny(HttpContext context, Access access)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_full is null)
        {
            return null;
        }

        string? given = context.Request.Headers[Header];
        if (given is null)
        {
            return Results.Problem(statusCode: 401, title: "unauthorized", detail: $"this endpoint needs the {Header} header ({LiberService.ApiKeyVariable}{(access == Access.Read ? $" or {LiberService.ReadApiKeyVariable}" : "")})");
        }

        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(given));
        // Both comparisons always run, so the time taken does not tell which key (if any) was close.
        bool full = CryptographicOperations.FixedTimeEquals(digest, _full);
        bool read = _read is not null && CryptographicOperations.FixedTimeEquals(digest, _read);
        if (full || (read && access == Access.Read))
        {
            return null;
        }

        return read
            ? Results.Problem(statusCode: 403, title: "forbidden", detail: $"the {Header} header holds the read-only key ({LiberService.ReadApiKeyVariable}): this endpoint changes state and needs {LiberService.ApiKeyVariable}")
            : Results.Problem(statusCode: 401, title: "unauthorized", detail: $"the {Header} header does not match the service's key");
    }

    /// <summary>An endpoint filter that lets a request through only with a key granting <paramref name="access"/>.</summary>
    public IEndpointFilter Filter(Access access) => new KeyFilter(this, access);

    private sealed class KeyFilter(ApiKeys keys, Access access) : IEndpointFilter
    {
        public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
            keys.Deny(context.HttpContext, access) is IResult denied ? ValueTask.FromResult<object?>(denied) : next(context);
    }
}
