using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PdM.Cmms.Stubs;

/// <summary>
/// Runs the stub server inside another host (the all-in-one demo, <c>demo/PdM.Demo</c>). A port that is taken is logged,
/// not fatal: the demo still raises work orders, and their delivery retries until a CMMS answers.
/// </summary>
public sealed partial class CmmsStubHostedService(IOptions<CmmsStubOptions> options, ILoggerFactory loggers, TimeProvider clock,
    ILogger<CmmsStubHostedService> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private CmmsStubServer? _server;
    private Task? _planner;

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
            if (settings.CompleteFirstAfter is { } after)
            {
                _planner = Task.Run(() => CompleteFirstRecordsAsync(_server, after, _stopping.Token), CancellationToken.None);
            }
        }
        catch (IOException exception)
        {
            LogNotStarted(logger, settings.Port, exception.Message);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_planner is not null)
        {
            await _planner;
            _planner = null;
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    /// <summary>
    /// The demo's planner: looks once a second for the first record in each system and completes it
    /// <paramref name="after"/> after first seeing it, once per system, keeping the codes the work order was raised with.
    /// </summary>
    private async Task CompleteFirstRecordsAsync(CmmsStubServer server, TimeSpan after, CancellationToken cancellationToken)
    {
        DateTimeOffset? maximoSeen = null;
        DateTimeOffset? sapSeen = null;
        bool maximoDone = false, sapDone = false;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        try
        {
            while (!(maximoDone && sapDone) && await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = clock.GetUtcNow();
                var maximo = server.Maximo.Tenant();
                if (!maximoDone && maximo.Records.Values.OrderBy(r => r.Id.Length).ThenBy(r => r.Id, StringComparer.Ordinal).FirstOrDefault() is { } record)
                {
                    maximoSeen ??= now;
                    if (now - maximoSeen >= after)
                    {
                        var status = record.ObjectStructure == MaximoStub.WorkOrderStructure ? "COMP" : "RESOLVED";
                        var problem = record.Field("problemcode");
                        maximo.Close(record.Id, problem, status, record.Field("failurecode"));
                        LogCompleted(logger, "Maximo", record.Id, status, problem ?? "-");
                        maximoDone = true;
                    }
                }

                var sap = server.Sap.Tenant();
                if (!sapDone && sap.Notifications.Keys.OrderBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal).FirstOrDefault() is { } number)
                {
                    sapSeen ??= now;
                    if (now - sapSeen >= after)
                    {
                        var damage = sap.DamageCode(number);
                        sap.Complete(number, damage, now);
                        LogCompleted(logger, "SAP", number, "completed (phase 4)", damage ?? "-");
                        sapDone = true;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Host stopping.
        }
    }

    [LoggerMessage(EventId = 9301, Level = LogLevel.Information, Message = "CMMS stubs (Maximo, SAP, webhook) listening on {Address}")]
    private static partial void LogStarted(ILogger logger, Uri address);

    [LoggerMessage(EventId = 9303, Level = LogLevel.Information, Message = "CMMS stub: the planner completed {System} record {RecordId}: {Status}, code {Code}")]
    private static partial void LogCompleted(ILogger logger, string system, string recordId, string status, string code);

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
