using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Liber.Core.Partitioning;
using Liber.Core.Storage;
using Liber.Serve;
using Liber.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Liber.Serve.Tests;

/// <summary>A service on loopback (Kestrel, port 0) over a temporary store, with an HTTP client.</summary>
internal sealed class ServiceHost : IAsyncDisposable
{
    public const string Key = "test-key-0123456789";

    private bool _stopped;

    private ServiceHost(WebApplication app, string dir, Uri address)
    {
        App = app;
        Dir = dir;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }

    public string Dir { get; }

    public HttpClient Client { get; }

    public ServeState State => App.Services.GetRequiredService<ServeState>();

    public static ServeOptions Options(string dir, bool worker = false) => new()
    {
        StorePath = Path.Combine(dir, "serve.db"),
        Partition = new PartitionOptions { Policy = "count", K = 5 },
        Store = new SqliteStoreOptions { Durability = Durability.Normal },
        ApiKey = Key,
        Nearline = new NearlineOptions { Enabled = worker, PollInterval = TimeSpan.FromMilliseconds(100), RetryDelay = TimeSpan.FromMilliseconds(50) },
    };

    public static async Task<ServiceHost> StartAsync(Func<string, ServeOptions>? options = null, Func<string, IRankModel>? loader = null, string? dir = null)
    {
        dir ??= Directory.CreateTempSubdirectory("liber-serve-").FullName;
        Directory.CreateDirectory(dir);
        ServeOptions o = (options ?? (d => Options(d)))(dir) with { Urls = "http://127.0.0.1:0" };
        WebApplication app = LiberService.Build(o, loader, logging: _ => { });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServiceHost(app, dir, new Uri(address));
    }

    public Task<HttpResponseMessage> PostAsync(string path, string json, string? key = Key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> GetAsync(string path, string? key = Key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostBytesAsync(string path, byte[] body, string? key = Key)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostAsync(string path, object body, string? key = Key) =>
        PostAsync(path, JsonSerializer.Serialize(body, Json), key);

    public static JsonSerializerOptions Json { get; } = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>Waits until no interest job is pending (the worker is done), up to two minutes.</summary>
    public async Task WaitForJobsAsync()
    {
        for (int i = 0; i < 1200 && State.Store.PendingJobs() > 0; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, State.Store.PendingJobs());
    }

    /// <summary>Stops the service and releases the store, keeping the folder (to reopen the store); idempotent.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await StopAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
