using PdM.Cmms.Stubs;

namespace PdM.Maintenance.Tests;

/// <summary>
/// A CMMS stub server of its own that a test can stop, so connections to its port are refused as when the CMMS host is
/// down, and start again on the same port, so the sites configured against it need no change. The suite's shared stub
/// server cannot be stopped: every other test's tenant lives there. A restarted server starts empty, as a CMMS that lost
/// nothing would not: count records only when nothing could have reached the server before it stopped.
/// </summary>
public sealed class RestartableCmmsStub : IAsyncDisposable
{
    private readonly Action<CmmsStubOptions> _configure;
    private readonly CmmsStubServer _first;
    private CmmsStubServer? _server;

    private RestartableCmmsStub(CmmsStubServer server, Action<CmmsStubOptions> configure)
    {
        _server = server;
        _first = server;
        _configure = configure;
    }

    /// <summary>A tenant's Maximo root; it stays valid across a restart.</summary>
    public Uri MaximoUrl(string tenant) => _first.MaximoUrl(tenant);

    /// <summary>The running server's stubs (records, faults); throws while stopped.</summary>
    public CmmsStubServer Running => _server ?? throw new InvalidOperationException("the CMMS stub is stopped");

    public static async Task<RestartableCmmsStub> StartAsync(Action<CmmsStubOptions> configure) =>
        new(await CmmsStubServer.StartAsync(configure: configure), configure);

    /// <summary>Stops listening: new connections are refused and pooled ones are closed by the server.</summary>
    public async Task StopAsync()
    {
        if (_server is { } server)
        {
            _server = null;
            await server.DisposeAsync();
        }
    }

    /// <summary>Starts it again on its port; nothing to do while it runs.</summary>
    public async Task StartAsync()
    {
        _server ??= await CmmsStubServer.StartAsync(_first.BaseAddress.Port, _configure);
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
