using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Liber.Serve.Api;

/// <summary>
/// The interest timeline page (<c>/ui</c>): three static files embedded in the assembly (no CDN, works offline). The page holds no
/// data: it asks for the API key and calls the same <c>/v1</c> endpoints with it, so it can show nothing the API would refuse.
/// Every answer carries a strict Content-Security-Policy (scripts and styles from this origin only, no inline script, no
/// framing); the script sets API texts with <c>textContent</c>, so an LLM summary holding markup renders as text.
/// </summary>
internal static class UiEndpoints
{
    /// <summary>The policy of every page answer.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, (string Type, byte[] Body)> Files = Load();

    public static void Map(WebApplication app)
    {
        // Routing matches "/ui" and "/ui/" alike: the page's relative links need the slash, so "/ui" is redirected to it.
        app.MapGet("/ui", (HttpContext c) => c.Request.Path.Value!.EndsWith('/') ? Serve(c, "index.html") : Results.Redirect("/ui/")).ExcludeFromDescription();
        app.MapGet("/ui/{file}", (HttpContext c, string file) => Serve(c, file)).ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext context, string file)
    {
        IHeaderDictionary h = context.Response.Headers;
        h.ContentSecurityPolicy = ContentSecurityPolicy;
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        h.CacheControl = "no-cache";
        return Files.TryGetValue(file, out var f) ? Results.Bytes(f.Body, f.Type) : Results.NotFound();
    }

    private static Dictionary<string, (string Type, byte[] Body)> Load()
    {
        Assembly a = typeof(UiEndpoints).Assembly;
        var files = new Dictionary<string, (string, byte[])>(StringComparer.Ordinal);
        foreach ((string name, string type) in new[] { ("index.html", "text/html; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8") })
        {
            using Stream s = a.GetManifestResourceStream("Liber.Serve.Ui." + name) ?? throw new InvalidOperationException($"the timeline page's {name} is not embedded in {a.GetName().Name}");
            using var m = new MemoryStream();
            s.CopyTo(m);
            files[name] = (type, m.ToArray());
        }

        return files;
    }
}
