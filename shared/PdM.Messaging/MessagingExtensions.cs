using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Hosting;
using RabbitMQ.Client;

namespace PdM.Messaging;

public static class MessagingExtensions
{
    /// <summary>
    /// The one MassTransit bus of a process, on the transport <c>Messaging:Transport</c> names. Modules add their
    /// consumers through <paramref name="configureConsumers"/>; endpoints get kebab-case names derived from the consumers.
    /// </summary>
    /// <param name="deployTopologyOnly">
    /// For <c>migrate</c>: the bus only declares its exchanges, queues and bindings (MassTransit's <c>DeployAsync</c>)
    /// and never consumes.
    /// </param>
    public static TBuilder AddPdMMessaging<TBuilder>(this TBuilder builder, Action<IBusRegistrationConfigurator>? configureConsumers = null,
        bool deployTopologyOnly = false)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<MessagingOptions>(MessagingOptions.Section);

        // Read eagerly too: the transport decides which registrations exist, so it cannot wait for IOptions.
        var options = builder.Configuration.GetSection(MessagingOptions.Section).Get<MessagingOptions>() ?? new MessagingOptions();

        // The publishers (gateway uplink, module outboxes) report to it; it restarts the bus past a refusing channel.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(services => new StalledPublishWatchdog(
            services.GetRequiredService<IBusControl>(), services.GetRequiredService<IMeterFactory>(), services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<StalledPublishWatchdog>>(), services.GetRequiredService<IOptions<MessagingOptions>>().Value.StalledPublishRestartAfter,
            options is { Transport: MessageTransport.RabbitMq, RabbitMq.Uri: { } probeUri }
                ? new BrokerPublishProbe(RabbitMqEndpoint.Parse(probeUri), options.RabbitMq.ClusterNodes).NewChannelCanPublishAsync
                : null));
        builder.Services.TryAddSingleton<ReceiveQueueNames>();
        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit 8.4+ reports usage to its vendor over HTTPS (usage-tracking.masstransit.io) unless told not to:
            // a plant gateway or a cloud module must open no connection but to the servers it is configured with.
            bus.DisableUsageTelemetry();
            bus.SetKebabCaseEndpointNameFormatter();
            configureConsumers?.Invoke(bus);
            if (options.Transport == MessageTransport.RabbitMq)
            {
                // Every endpoint the modules and gateways configure (ConfigureEndpoints), not the bus's own temporary
                // queue, which is exclusive to its connection and cannot be a quorum queue.
                bus.AddConfigureEndpointsCallback((context, name, endpoint) =>
                {
                    if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
                    {
                        context.GetRequiredService<ReceiveQueueNames>().Add(name);
                        RabbitQueueTopology.Apply(rabbit, name, options.RabbitMq);
                    }
                });
            }

            switch (options.Transport)
            {
                case MessageTransport.RabbitMq when options.RabbitMq.Uri is { } uri:
                    bus.UsingRabbitMq((context, cfg) =>
                    {
                        var endpoint = RabbitMqEndpoint.Parse(uri);
                        cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, host =>
                        {
                            host.Username(endpoint.Username);
                            host.Password(endpoint.Password);
                            if (endpoint.UseTls)
                            {
                                host.UseSsl(ssl => ssl.ServerName = endpoint.Host);
                            }

                            // Publisher confirms: a publish completes only once the broker has the message.
                            host.PublisherConfirmation = true;
                            if (options.RabbitMq.ClusterNodes.Count > 0)
                            {
                                host.UseCluster(cluster =>
                                {
                                    foreach (var node in options.RabbitMq.ClusterNodes)
                                    {
                                        cluster.Node(node);
                                    }
                                });
                            }
                        });
                        AllowNonFiniteNumbers(cfg);
                        cfg.DeployTopologyOnly = deployTopologyOnly;
                        cfg.PrefetchCount = options.RabbitMq.PrefetchCount;
                        UseRetry(cfg, context, options, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
                        cfg.ConfigureEndpoints(context);
                    });
                    break;
                default:
                    bus.UsingInMemory((context, cfg) =>
                    {
                        AllowNonFiniteNumbers(cfg);
                        UseRetry(cfg, context, options, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100));
                        cfg.ConfigureEndpoints(context);
                    });
                    break;
            }
        });

        return builder;
    }

    /// <summary>
    /// NaN and ±Infinity cross the bus as "NaN", "Infinity" and "-Infinity", as the contracts' own JSON contexts (the
    /// gateway's journal) already write them. Every feature of a sensor that sent nothing in a window is NaN (a sensor
    /// offline, or one a device reports less often than the window), and MassTransit's serializer refused it: such a
    /// feature batch failed on every try, was logged as a fault each time and held the uplink in its "down" backoff for
    /// good. MassTransit keeps these options process-wide and they may already be in use (several buses in one
    /// process): a changed copy replaces them, never an edit in place.
    /// </summary>
    private static void AllowNonFiniteNumbers(IBusFactoryConfigurator cfg) =>
        cfg.ConfigureJsonSerializerOptions(options => (options.NumberHandling & JsonNumberHandling.AllowNamedFloatingPointLiterals) != 0
            ? options
            : new JsonSerializerOptions(options) { NumberHandling = options.NumberHandling | JsonNumberHandling.AllowNamedFloatingPointLiterals });

    /// <summary>
    /// Two disjoint in-process retries around every consumer. A transient failure of a dependency (each
    /// <see cref="TransientFailure"/> registered, e.g. PostgreSQL restarting) is retried on the long schedule of
    /// <c>Messaging:TransientRetry</c>; anything else gets <c>Messaging:RetryLimit</c> quick retries, then the _error
    /// queue. Both keep the message unacknowledged while they wait: a process that dies meanwhile loses nothing, the
    /// broker hands the message to another consumer. (Delayed redelivery would free the consumer, but needs the
    /// delayed-message exchange plugin or a scheduler that must itself survive a crash.)
    /// </summary>
    private static void UseRetry(IBusFactoryConfigurator cfg, IServiceProvider services, MessagingOptions options,
        TimeSpan quickMin, TimeSpan quickMax, TimeSpan quickDelta)
    {
        var transient = services.GetServices<TransientFailure>().ToArray();
        var schedule = options.TransientRetry;
        var longRetry = transient.Length > 0 && schedule.Limit > 0;
        if (longRetry)
        {
            cfg.UseMessageRetry(retry =>
            {
                retry.Handle<Exception>(exception => TransientFailure.IsAny(transient, exception));
                retry.Exponential(schedule.Limit, TransientRetryOptions.MassTransitMinInterval, schedule.MaxInterval, schedule.FirstInterval);
            });
        }

        cfg.UseMessageRetry(retry =>
        {
            if (longRetry)
            {
                // Left to the outer, long retry above: five quick tries would only burn its first seconds.
                retry.Ignore<Exception>(exception => TransientFailure.IsAny(transient, exception));
            }

            retry.Exponential(options.RetryLimit, quickMin, quickMax, quickDelta);
        });
    }
}

/// <summary>The parts of an AMQP URI, with RabbitMQ's defaults filled in.</summary>
public sealed record RabbitMqEndpoint(string Host, ushort Port, string VirtualHost, string Username, string Password, bool UseTls)
{
    public static RabbitMqEndpoint Parse(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var tls = uri.Scheme is "amqps" or "rabbitmqs";
        var port = uri.IsDefaultPort || uri.Port <= 0 ? (ushort)(tls ? 5671 : 5672) : (ushort)uri.Port;
        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var userInfo = uri.UserInfo.Split(':', 2);
        var user = userInfo.Length > 0 && userInfo[0].Length > 0 ? Uri.UnescapeDataString(userInfo[0]) : "guest";
        var password = userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : "guest";
        return new RabbitMqEndpoint(uri.Host, port, vhost.Length == 0 ? "/" : vhost, user, password, tls);
    }

    /// <summary>
    /// This endpoint, then each of <paramref name="clusterNodes"/> that parses: what a RabbitMQ.Client connection fails
    /// over between. With TLS each node is verified under its own host name.
    /// </summary>
    public List<AmqpTcpEndpoint> WithClusterNodes(IEnumerable<string> clusterNodes)
    {
        ArgumentNullException.ThrowIfNull(clusterNodes);
        List<AmqpTcpEndpoint> endpoints = [new(Host, Port, TlsFor(Host))];
        foreach (var node in clusterNodes)
        {
            if (TryParseNode(node, out var host, out var port))
            {
                endpoints.Add(new AmqpTcpEndpoint(host, port, TlsFor(host)));
            }
        }

        return endpoints;
    }

    private SslOption TlsFor(string host) => UseTls ? new SslOption { Enabled = true, ServerName = host } : new SslOption();

    /// <summary>A cluster node as <c>host:port</c> (<c>Messaging:RabbitMq:ClusterNodes</c>).</summary>
    public static bool TryParseNode(string? node, out string host, out ushort port)
    {
        host = string.Empty;
        port = 0;
        var colon = node?.LastIndexOf(':') ?? -1;
        if (node is null || colon <= 0 || !ushort.TryParse(node.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port == 0)
        {
            return false;
        }

        host = node[..colon];
        return true;
    }
}
