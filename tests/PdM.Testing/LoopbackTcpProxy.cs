using System.Net;
using System.Net.Sockets;

namespace PdM.Testing;

/// <summary>
/// A TCP proxy on 127.0.0.1 between a client and a real server, for fault tests: <see cref="CutAll"/> resets every
/// connection at once (what a pulled cable or a killed process looks like to the server), <see cref="Refuse"/> keeps
/// new connections out until <see cref="Accept"/>. <see cref="Latency"/> and <see cref="BytesPerSecond"/> slow the link
/// (a congested or narrow uplink) without cutting it; both apply to traffic in either direction and can change at any time.
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

            _ = Pump(client, server, this);
            _ = Pump(server, client, this);
        }
    }

    private static async Task Pump(Socket from, Socket to, LoopbackTcpProxy proxy)
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
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            Reset(to);
        }
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
