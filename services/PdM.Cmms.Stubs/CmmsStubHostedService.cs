using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PdM.Cmms.Stubs;

/// <summary>
/// Runs the stub server inside another host (the all-in-one demo, <c>demo/PdM.Demo</c>). A port that is taken is logged,
/// not fatal: the demo still raises work orders, and their delivery retries until a CMMS answers.
/// </summary>
public sealed partial class CmmsStubHostedService(IOptions<CmmsStubOptions> options, ILoggerFactory loggers, ILogger<CmmsStubHostedService> logger) : IHostedService, IAsyncDisposable
{
    private CmmsStubServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        try
        {
            _server = await CmmsStubServer.StartAsync(settings.Port, configured =>
            {
                configured.MaximoApiKey = settings.MaximoApiKey;
                configured.SapUser = settings.SapUser;
                configured.SapPassword = settings.SapPassword;
                configured.SapClient = settings.SapClient;
                configured.WebhookSecret = settings.WebhookSecret;
                configured.Links = settings.Links;
            }, logging => logging.AddProvider(new ForwardingLoggerProvider(loggers)), cancellationToken);
            LogStarted(logger, _server.BaseAddress);
        }
        catch (IOException exception)
        {
            LogNotStarted(logger, settings.Port, exception.Message);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 9301, Level = LogLevel.Information, Message = "CMMS stubs (Maximo, SAP, webhook) listening on {Address}")]
    private static partial void LogStarted(ILogger logger, Uri address);

    [LoggerMessage(EventId = 9302, Level = LogLevel.Warning, Message = "CMMS stubs could not listen on 127.0.0.1:{Port}: {Reason}")]
    private static partial void LogNotStarted(ILogger logger, int port, string reason);

    /// <summary>Sends the stub server's logs to the host's logging, so the demo console shows what the "CMMS" received.</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory target) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => target.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
