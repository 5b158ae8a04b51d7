using Liber.Interests.Template;
using Microsoft.Extensions.AI;

namespace Liber.Interests.Learning;

/// <summary>What writes the interest texts: an <see cref="IChatClient"/> (openai, llama) or the offline template writer.</summary>
public sealed class InterestBackend
{
    private InterestBackend(string name, string model, IChatClient? chat)
    {
        Name = name;
        Model = model;
        Chat = chat;
    }

    /// <summary>template, openai or llama (recorded with every text and in every report).</summary>
    public string Name { get; }

    /// <summary>Model name (part of the cache key).</summary>
    public string Model { get; }

    /// <summary>The chat client, or null for the template writer.</summary>
    public IChatClient? Chat { get; }

    /// <summary>The offline, deterministic template writer (no LLM).</summary>
    public static InterestBackend Template() => new("template", TemplateInterestWriter.Version, null);

    /// <summary>An LLM behind a chat client. The caller keeps ownership of <paramref name="client"/>.</summary>
    public static InterestBackend ForChat(string name, string model, IChatClient client)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(client);
        return new InterestBackend(name, model, client);
    }
}
