using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Liber.Cluster.Tests;

/// <summary>Grain state through the Orleans serializer, as every storage provider stores it.</summary>
public sealed class StateSerializationTests
{
    [Fact]
    public void A_user_state_with_dense_id_zero_reads_back_as_zero()
    {
        using ServiceProvider services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(UserGrainState).Assembly)).BuildServiceProvider();
        Serializer serializer = services.GetRequiredService<Serializer>();
        foreach (int? id in new int?[] { 0, 1, null })
        {
            UserGrainState back = serializer.Deserialize<UserGrainState>(serializer.SerializeToArray(new UserGrainState { DenseId = id, NextIndex = 3 }))!;
            Assert.Equal((id, 3), (back.DenseId, back.NextIndex));
        }
    }
}
