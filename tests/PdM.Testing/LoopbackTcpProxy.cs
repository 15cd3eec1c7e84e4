using System.Net;
using System.Net.Sockets;

namespace PdM.Testing;

/// <summary>
/// A TCP proxy on 127.0.0.1 between a client and a real server, for fault tests: <see cref="CutAll"/> resets every
/// connection at once (what a pulled cable or a killed process looks like to the server), <see cref="Refuse"/> keeps
/// new connections out until <see cref="Accept"/>. <see cref="Latency"/> and <see cref="BytesPerSecond"/> slow the link
/// (a congested or narrow uplink) without cutting it; both apply to traffic in either direction and can change at any time.
/// <see cref="Hold"/> stalls the link without cutting it until <see cref="ReleaseHold"/>: connections stay open (no RST,
/// no FIN) but bytes stop moving, as on a black-holed route, so each side sees its writes accepted and no answer.
/// </summary>
public sealed class LoopbackTcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<(Socket Client, Socket Server)> _connections = [];
    private readonly Task _acceptLoop;
    private volatile bool _refusing;
    private long _latencyTicks;
    private long _bytesPerSecond;

    // Completed while nothing is held; a pump that has read a chunk waits on it before forwarding, per direction.
    private volatile TaskCompletionSource _toServerFlowing = Flowing();
    private volatile TaskCompletionSource _toClientFlowing = Flowing();

    public LoopbackTcpProxy(string targetHost, int targetPort)
    {
        _target = new IPEndPoint(IPAddress.Parse(targetHost == "localhost" ? "127.0.0.1" : targetHost), targetPort);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoop();
    }

    public int Port { get; }

    /// <summary>Added to every chunk forwarded in either direction (one-way delay); zero (the default) forwards at once.</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, Math.Max(0, value.Ticks));
    }

    /// <summary>Caps each direction of each connection at this many bytes per second; zero (the default) is unlimited.</summary>
    public long BytesPerSecond
    {
        get => Interlocked.Read(ref _bytesPerSecond);
        set => Interlocked.Exchange(ref _bytesPerSecond, Math.Max(0, value));
    }

    public int ActiveConnections
    {
        get
        {
            lock (_connections)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>Resets every open connection (RST, no FIN handshake).</summary>
    public void CutAll()
    {
        List<(Socket Client, Socket Server)> open;
        lock (_connections)
        {
            open = [.. _connections];
            _connections.Clear();
        }

        foreach (var (client, server) in open)
        {
            Reset(client);
            Reset(server);
        }
    }

    /// <summary>New connections are accepted and immediately reset, as if the server were down.</summary>
    public void Refuse() => _refusing = true;

    public void Accept() => _refusing = false;

    /// <summary>
    /// Stops forwarding bytes toward the server, the client, or both (open and new connections alike); what was read
    /// is kept and forwarded in order on <see cref="ReleaseHold"/>. The proxy stops reading a held direction, so the
    /// sender's socket buffers fill and its writes block, as on a real stalled path.
    /// </summary>
    public void Hold(bool toServer = true, bool toClient = true)
    {
        if (toServer && _toServerFlowing.Task.IsCompleted)
        {
            _toServerFlowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (toClient && _toClientFlowing.Task.IsCompleted)
        {
            _toClientFlowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Forwards again in both directions, starting with what was held.</summary>
    public void ReleaseHold()
    {
        _toServerFlowing.TrySetResult();
        _toClientFlowing.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        CutAll();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }

            if (_refusing)
            {
                Reset(client);
                continue;
            }

            var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(_target, _stopping.Token);
            }
            catch (SocketException)
            {
                Reset(client);
                server.Dispose();
                continue;
            }

            lock (_connections)
            {
                _connections.Add((client, server));
            }

            _ = Pump(client, server, this, toServer: true);
            _ = Pump(server, client, this, toServer: false);
        }
    }

    private static async Task Pump(Socket from, Socket to, LoopbackTcpProxy proxy, bool toServer)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                // A throttled link reads at most a tenth of a second's worth at a time, so the cap holds at fine grain.
                var rate = proxy.BytesPerSecond;
                var window = rate > 0 ? (int)Math.Clamp(rate / 10, 1, buffer.Length) : buffer.Length;
                var read = await from.ReceiveAsync(buffer.AsMemory(0, window), SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                // Held: the chunk waits here and nothing more is read until the hold is released or the proxy disposed (a
                // connection cut meanwhile fails on the send that follows the release).
                var flowing = toServer ? proxy._toServerFlowing : proxy._toClientFlowing;
                if (!flowing.Task.IsCompleted)
                {
                    await flowing.Task.WaitAsync(proxy._stopping.Token);
                }

                var latency = proxy.Latency;
                if (latency > TimeSpan.Zero)
                {
                    await Task.Delay(latency);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                if (rate > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)read / rate));
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Reset(to);
        }
    }

    private static TaskCompletionSource Flowing()
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flowing.SetResult();
        return flowing;
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
