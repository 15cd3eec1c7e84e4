using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>
/// Between the bus consumer and the one deployment worker: bounded, so a burst of requests waits in RabbitMQ rather
/// than in memory; one reader, so deployments on a gateway happen one after another.
/// </summary>
public sealed class DeploymentInbox(IOptions<DeploymentOptions> options)
{
    private readonly Channel<ModelDeploymentRequested> _channel = Channel.CreateBounded<ModelDeploymentRequested>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public ValueTask EnqueueAsync(ModelDeploymentRequested request, CancellationToken cancellationToken) =>
        _channel.Writer.WriteAsync(request, cancellationToken);

    public ChannelReader<ModelDeploymentRequested> Reader => _channel.Reader;
}
