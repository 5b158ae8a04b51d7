using System.Threading.Channels;
using Liber.Core.Storage;

namespace Liber.Store;

/// <summary>
/// The group committer: batches queued while a commit is being flushed are taken together (at most
/// <see cref="MaxGroup"/>, in arrival order) and committed by one call of the store's commit, under the store's
/// writer lock: one transaction and one fsync per group. A failed commit fails every batch of its group.
/// </summary>
/// <param name="gate">The store's writer lock, held around each commit.</param>
/// <param name="commitLocked">Applies a group in one transaction and returns each batch's outcome (called under <paramref name="gate"/>).</param>
internal sealed class GroupCommitter(object gate, Func<List<PendingBatch>, AppendResult[]> commitLocked)
{
    /// <summary>The most batches one transaction takes.</summary>
    public const int MaxGroup = 32;

    private readonly Channel<PendingBatch> _queue = Channel.CreateUnbounded<PendingBatch>(new() { SingleReader = true });
    private Task? _writer;

    /// <summary>The writer task, once started (read it under the writer lock).</summary>
    public Task? Writer => _writer;

    /// <summary>Starts the writer on first use (the caller holds the writer lock).</summary>
    public void StartLocked() => _writer ??= Task.Run(WriterLoop, CancellationToken.None);

    /// <summary>Queues a batch; false once the committer is completed.</summary>
    public bool TryQueue(PendingBatch pending) => _queue.Writer.TryWrite(pending);

    /// <summary>Takes no more batches: the writer finishes the queued ones and ends.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    private async Task WriterLoop()
    {
        var group = new List<PendingBatch>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            group.Clear();
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out PendingBatch? p))
            {
                group.Add(p);
            }

            AppendResult[] results;
            try
            {
                lock (gate)
                {
                    results = commitLocked(group);
                }
            }
            catch (Exception e)
            {
                foreach (PendingBatch p in group)
                {
                    p.Done.TrySetException(e);
                }

                continue;
            }

            for (int i = 0; i < group.Count; i++)
            {
                group[i].Done.TrySetResult(results[i]);
            }
        }
    }
}

/// <summary>A batch waiting for the group committer: dense events or events named by external ids, and its outcome.</summary>
/// <param name="Events">Dense events, or null.</param>
/// <param name="External">Events named by external ids, or null.</param>
/// <param name="Done">Completed when the batch is durable (or its group failed).</param>
internal sealed record PendingBatch(IReadOnlyList<StoreEvent>? Events, IReadOnlyList<ExternalEvent>? External, TaskCompletionSource<AppendResult> Done)
{
    /// <summary>A batch whose task continues asynchronously.</summary>
    public static PendingBatch Of(IReadOnlyList<StoreEvent>? events, IReadOnlyList<ExternalEvent>? external) =>
        new(events, external, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
}
