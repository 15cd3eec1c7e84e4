using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Channel;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;

namespace PdM.Edge.Gateway.Mqtt;

/// <summary>
/// Group acknowledgement for QoS 1: the PUBACKs of messages the pipeline has finished with are held for a moment and
/// written to the socket together, instead of one write (one syscall, one TCP segment for the broker to read) each.
/// <para>
/// MQTTnet sends every packet with its own write. At tens of thousands of messages a second that write is most of a
/// gateway's cost: profiled, the PUBACK was ~84 % of the pipeline thread. Holding an acknowledgement longer is always
/// safe for QoS 1 (a message not yet acknowledged is at worst redelivered), so this changes no guarantee: an
/// acknowledgement still leaves only after the message's effects are journaled.
/// </para>
/// <para>
/// When they leave: as soon as the pipeline has no further message waiting (<see cref="FlushAsync"/>, so an idle or
/// lightly loaded gateway acknowledges exactly as promptly as before), when <see cref="MqttConnectionOptions.PubAckBatch"/>
/// are pending, and before any other packet (a PUBLISH, PINGREQ or DISCONNECT goes out after the held PUBACKs, which
/// keep their order). Pending PUBACKs of a connection that drops are discarded with it; the broker redelivers those
/// messages to the resumed session.
/// </para>
/// </summary>
public sealed class PubAckCoalescer(IOptions<GatewayOptions> options, GatewayTelemetry telemetry) : IMqttClientAdapterFactory
{
    private readonly int _batch = options.Value.Mqtt.PubAckBatch;
    private volatile CoalescingChannel? _current;

    /// <summary>MQTTnet asks for a new adapter on every connect: the channel of the newest connection is the one flushed.</summary>
    public IMqttChannelAdapter CreateClientAdapter(MqttClientOptions options, MqttPacketInspector packetInspector, IMqttNetLogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        IMqttChannel channel = new MqttTcpChannel(options);
        if (_batch > 1)
        {
            var coalescing = new CoalescingChannel(channel, _batch, telemetry);
            _current = coalescing;
            channel = coalescing;
        }

        // What MQTTnet's own MqttClientAdapterFactory builds for TCP, around our channel.
        return new MqttChannelAdapter(channel, new MqttPacketFormatterAdapter(options.ProtocolVersion, new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax)), logger)
        {
            AllowPacketFragmentation = options.AllowPacketFragmentation,
            PacketInspector = packetInspector,
        };
    }

    /// <summary>Writes the held PUBACKs now. Never throws: a failed write means a dropped connection, handled by reconnect.</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => _current?.FlushAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>
    /// An <see cref="IMqttChannel"/> that buffers complete PUBACK packets. MQTTnet serialises its own writes, but
    /// <see cref="FlushAsync"/> comes from the pipeline thread, so every write to the inner channel takes
    /// <see cref="_write"/> and the pending buffer is guarded by <see cref="_gate"/>.
    /// </summary>
    private sealed class CoalescingChannel(IMqttChannel inner, int batch, GatewayTelemetry telemetry) : IMqttChannel, IDisposable
    {
        // A PUBACK with a reason code and no properties is 4 bytes (MQTT 5 success omits even the reason code); a
        // longer one (reason string, user properties) is written through rather than held.
        private const int MaxHeldPacketBytes = 8;
        private const byte PubAckFixedHeader = 0x40;

        private readonly Lock _gate = new();
        private readonly SemaphoreSlim _write = new(1, 1);
        private byte[] _pending = new byte[batch * MaxHeldPacketBytes];
        private byte[] _writing = new byte[batch * MaxHeldPacketBytes];
        private int _pendingBytes;
        private int _pendingPackets;
        private bool _midPacket;

        public X509Certificate2 ClientCertificate => inner.ClientCertificate;

        public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

        public EndPoint LocalEndPoint => inner.LocalEndPoint;

        public bool IsSecureConnection => inner.IsSecureConnection;

        public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

        public async Task DisconnectAsync(CancellationToken cancellationToken)
        {
            await FlushAsync(cancellationToken);
            await inner.DisconnectAsync(cancellationToken);
        }

        public Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken)
        {
            if (!_midPacket && isEndOfPacket && buffer.Length <= MaxHeldPacketBytes && buffer.FirstSpan[0] == PubAckFixedHeader)
            {
                bool full;
                lock (_gate)
                {
                    if (_pendingBytes + buffer.Length > _pending.Length)
                    {
                        // Only while a flush of a full batch is still writing; MQTTnet's own send lock keeps this rare.
                        return WriteThrough(buffer, isEndOfPacket, cancellationToken);
                    }

                    buffer.CopyTo(_pending.AsSpan(_pendingBytes));
                    _pendingBytes += (int)buffer.Length;
                    full = ++_pendingPackets >= batch;
                }

                return full ? FlushAsync(cancellationToken) : Task.CompletedTask;
            }

            return WriteThrough(buffer, isEndOfPacket, cancellationToken);
        }

        private async Task WriteThrough(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken)
        {
            await _write.WaitAsync(cancellationToken);
            try
            {
                // Held PUBACKs go first: a packet written after an acknowledgement was requested must not overtake it.
                await WritePending(cancellationToken);
                _midPacket = !isEndOfPacket;
                await inner.WriteAsync(buffer, isEndOfPacket, cancellationToken);
            }
            finally
            {
                _write.Release();
            }
        }

        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _pendingPackets) == 0)
            {
                return;
            }

            try
            {
                await _write.WaitAsync(cancellationToken);
                try
                {
                    await WritePending(cancellationToken);
                }
                finally
                {
                    _write.Release();
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The connection is gone; MQTTnet notices on its own read and the supervisor reconnects. The broker
                // still holds these messages for the session and redelivers them.
                telemetry.PubAckFlushesFailed.Add(1);
            }
        }

        /// <summary>Called holding <see cref="_write"/>: swaps the buffers so PUBACKs can be held while this one is written.</summary>
        private Task WritePending(CancellationToken cancellationToken)
        {
            int bytes;
            int packets;
            lock (_gate)
            {
                if (_pendingPackets == 0)
                {
                    return Task.CompletedTask;
                }

                (_pending, _writing) = (_writing, _pending);
                bytes = _pendingBytes;
                packets = _pendingPackets;
                _pendingBytes = 0;
                _pendingPackets = 0;
            }

            telemetry.PubAckWrites.Record(packets);
            return inner.WriteAsync(new ReadOnlySequence<byte>(_writing, 0, bytes), true, cancellationToken);
        }

        public void Dispose()
        {
            (inner as IDisposable)?.Dispose();
            _write.Dispose();
        }
    }
}
