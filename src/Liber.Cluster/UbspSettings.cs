using System.Globalization;
using Liber.Core.Data;
using Liber.Core.Partitioning;
using Liber.Core.Storage;

namespace Liber.Cluster;

/// <summary>
/// What every silo of a cluster must agree on to partition users' streams: the policy, caps, item features and item
/// ids (a fixed catalog in this version), the late-event rule and how many recent event ids each user grain keeps
/// for idempotency. Registered once per silo as a singleton (<see cref="ClusterHosting.AddLiberUbsp"/>).
/// </summary>
public sealed class UbspSettings
{
    private readonly Dictionary<string, int> _items;
    private readonly string[] _itemNames;

    /// <summary>Creates the settings; <paramref name="itemIds"/> are the external item ids by dense id (as the features).</summary>
    public UbspSettings(IPartitionPolicy policy, PartitionCaps caps, ItemFeatures features, IReadOnlyList<string> itemIds, LateEventRule lateEvents = LateEventRule.Reject, int recentIds = 1024)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(caps);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(itemIds);
        caps.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(recentIds, 1);
        if (itemIds.Count != features.ItemCount)
        {
            throw new ArgumentException($"{itemIds.Count} item ids for {features.ItemCount} items with features: both must list the same catalog", nameof(itemIds));
        }

        Policy = policy;
        Caps = caps;
        Features = features;
        LateEvents = lateEvents;
        RecentIds = recentIds;
        _itemNames = [.. itemIds];
        _items = new Dictionary<string, int>(_itemNames.Length, StringComparer.Ordinal);
        for (int i = 0; i < _itemNames.Length; i++)
        {
            if (!_items.TryAdd(_itemNames[i], i))
            {
                throw new ArgumentException($"item id '{_itemNames[i]}' appears twice in the catalog", nameof(itemIds));
            }
        }

        Description = string.Create(CultureInfo.InvariantCulture, $"{policy.Describe()} max_events={caps.MaxEvents} max_prompt_tokens={caps.MaxPromptTokens} tokenizer={features.Tokenizer}");
    }

    /// <summary>The partition policy.</summary>
    public IPartitionPolicy Policy { get; }

    /// <summary>The hard caps.</summary>
    public PartitionCaps Caps { get; }

    /// <summary>Item features (categories, prompt tokens).</summary>
    public ItemFeatures Features { get; }

    /// <summary>What a user grain does with an event older than the user's last event.</summary>
    public LateEventRule LateEvents { get; }

    /// <summary>
    /// How many of a user's most recently applied event ids (with their content) the grain keeps to tell duplicates and
    /// conflicts apart. An unknown id whose time is at or before the newest forgotten one is refused, never applied.
    /// </summary>
    public int RecentIds { get; }

    /// <summary>Policy, caps and tokenizer as one line, in the single-process store's format: a user's state is only resumed under the same.</summary>
    public string Description { get; }

    /// <summary>Number of items in the catalog.</summary>
    public int ItemCount => _itemNames.Length;

    /// <summary>The dense id of an external item id, or null when the catalog does not have it.</summary>
    public int? FindItem(string external) => external is not null && _items.TryGetValue(external, out int id) ? id : null;

    /// <summary>The external id of a dense item id.</summary>
    public string ItemName(int item) => _itemNames[item];

    /// <summary>Settings over a data set's catalog (its items' external ids, features counted with <paramref name="tokens"/>).</summary>
    public static UbspSettings ForDataset(Dataset dataset, PartitionOptions options, ITokenCounter tokens, LateEventRule lateEvents = LateEventRule.Reject, int recentIds = 1024)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tokens);
        ItemFeatures features = ItemFeatures.Build(dataset, tokens);
        var ids = new string[dataset.Items.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = dataset.Items.External(i);
        }

        return new UbspSettings(PartitionPolicies.Create(options), options.Caps, features, ids, lateEvents, recentIds);
    }
}
