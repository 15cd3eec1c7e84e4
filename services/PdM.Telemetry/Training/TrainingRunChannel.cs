using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace PdM.Telemetry.Training;

/// <summary>The hosted queue of run ids between the command side (HTTP, bus) and the background runner.</summary>
public sealed class TrainingRunChannel(IOptions<TrainingOptions> options)
{
    private readonly Channel<Guid> _runs = Channel.CreateBounded<Guid>(new BoundedChannelOptions(options.Value.QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    /// <summary>False when the queue is full: the caller refuses the command instead of waiting.</summary>
    public bool TryEnqueue(Guid runId) => _runs.Writer.TryWrite(runId);

    public IAsyncEnumerable<Guid> ReadAllAsync(CancellationToken cancellationToken) => _runs.Reader.ReadAllAsync(cancellationToken);
}
