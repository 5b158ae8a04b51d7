using Liber.Core.Tests.Readers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Liber.Cluster.Tests;

/// <summary>
/// A 3-silo in-process Orleans cluster over the ml-100k settings (not started when ml-100k is absent), with memory grain
/// storage behind Orleans' fault injection (a test can make one grain's next write fail).
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    internal InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster is not deployed (ml-100k absent)");

    internal static Ml100kSlice Data => Ml100kSlice.Instance ?? throw new InvalidOperationException("ml-100k not found under shared/datasets");

    /// <summary>The cluster client and each silo's own grain factory: calls through them enter the cluster at different places.</summary>
    internal IReadOnlyList<IGrainFactory> Entrances =>
        [Cluster.Client, .. Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<IGrainFactory>())];

    public async Task InitializeAsync()
    {
        if (RealData.Folder("ml-100k") is null)
        {
            return;
        }

        _cluster = ClusterFactory.Build(Data.Settings, silo => silo.AddFaultInjectionMemoryStorage(ClusterHosting.StorageName));
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>Builds in-process test clusters of 3 silos for given settings and grain storage.</summary>
internal static class ClusterFactory
{
    public static InProcessTestCluster Build(UbspSettings settings, Action<ISiloBuilder> storage, string? serviceId = null)
    {
        var builder = new InProcessTestClusterBuilder(3);
        if (serviceId is not null)
        {
            builder.Options.ServiceId = serviceId;
        }

        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddLiberUbsp(settings);
            storage(silo);
        });
        return builder.Build();
    }
}
