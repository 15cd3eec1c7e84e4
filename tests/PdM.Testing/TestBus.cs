using MassTransit;
using PdM.Messaging;

namespace PdM.Testing;

/// <summary>
/// A test-side MassTransit bus on a RabbitMQ vhost: a subscriber that watches what the platform publishes, or a
/// publisher that publishes as a gateway does (publisher confirms). With <paramref name="cluster"/> it knows every node
/// of the local three-node cluster and fails over as the platform's hosts do.
/// </summary>
public static class TestBus
{
    public static IBusControl Create(Uri vhost, Action<IRabbitMqBusFactoryConfigurator>? endpoints = null, bool cluster = false)
    {
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        return Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h =>
            {
                h.Username(endpoint.Username);
                h.Password(endpoint.Password);
                h.PublisherConfirmation = true;
                if (cluster)
                {
                    h.UseCluster(c => LocalDependencies.RabbitMqClusterNodes.ToList().ForEach(c.Node));
                }
            });
            endpoints?.Invoke(cfg);
        });
    }
}
