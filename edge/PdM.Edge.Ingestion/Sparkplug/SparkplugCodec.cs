using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace PdM.Edge.Ingestion.Sparkplug;

/// <summary>Encoding and bounded decoding of Sparkplug B protobuf payloads, and metric value conversion.</summary>
public static class SparkplugCodec
{
    public const string RebirthMetric = "Node Control/Rebirth";
    public const string BdSeqMetric = "bdSeq";

    /// <summary>
    /// Decodes a payload with a nesting limit (templates nest metrics; a hostile payload can nest forever).
    /// Returns <see cref="RejectReason.None"/>, <see cref="RejectReason.TooDeep"/> or <see cref="RejectReason.Malformed"/>; never throws for bad bytes.
    /// </summary>
    public static RejectReason TryDecode(in ReadOnlySequence<byte> bytes, int maxDepth, out Payload? payload)
    {
        payload = null;
        byte[]? rented = null;
        try
        {
            Stream stream;
            if (bytes.IsSingleSegment && MemoryMarshal.TryGetArray(bytes.First, out var segment) && segment.Array is not null)
            {
                stream = new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false);
            }
            else
            {
                var length = (int)bytes.Length;
                rented = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
                bytes.CopyTo(rented);
                stream = new MemoryStream(rented, 0, length, writable: false);
            }

            using var input = CodedInputStream.CreateWithLimits(stream, int.MaxValue, maxDepth);
            payload = Payload.Parser.ParseFrom(input);
            return RejectReason.None;
        }
        catch (InvalidProtocolBufferException ex)
        {
            // Google.Protobuf reports an exceeded recursion limit only through this exception's message.
            return ex.Message.Contains("nesting", StringComparison.OrdinalIgnoreCase) ? RejectReason.TooDeep : RejectReason.Malformed;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static byte[] Encode(Payload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return payload.ToByteArray();
    }

    /// <summary>The NCMD payload that asks an edge node to republish its NBIRTH and all DBIRTHs.</summary>
    public static byte[] EncodeRebirthCommand(long timestampUnixMs)
    {
        var payload = new Payload { Timestamp = (ulong)Math.Max(0, timestampUnixMs) };
        payload.Metrics.Add(new Payload.Types.Metric
        {
            Name = RebirthMetric,
            Timestamp = (ulong)Math.Max(0, timestampUnixMs),
            Datatype = (uint)DataType.Boolean,
            BooleanValue = true,
        });
        return payload.ToByteArray();
    }

    /// <summary>
    /// The metric's value as a double for the numeric Sparkplug types (booleans as 0/1). False for strings, bytes,
    /// datasets, templates, arrays, or when the value field does not match the datatype.
    /// </summary>
    public static bool TryGetNumericValue(Payload.Types.Metric metric, uint datatype, out double value)
    {
        ArgumentNullException.ThrowIfNull(metric);
        value = double.NaN;
        var kind = metric.ValueCase;
        switch ((DataType)datatype)
        {
            // Signed 8/16/32-bit values travel as their two's-complement bit pattern in the uint32 field.
            case DataType.Int8 when kind == Payload.Types.Metric.ValueOneofCase.IntValue:
                value = unchecked((sbyte)metric.IntValue);
                return true;
            case DataType.Int16 when kind == Payload.Types.Metric.ValueOneofCase.IntValue:
                value = unchecked((short)metric.IntValue);
                return true;
            case DataType.Int32 when kind == Payload.Types.Metric.ValueOneofCase.IntValue:
                value = unchecked((int)metric.IntValue);
                return true;
            case DataType.Uint8 or DataType.Uint16 or DataType.Uint32 when kind == Payload.Types.Metric.ValueOneofCase.IntValue:
                value = metric.IntValue;
                return true;
            // Some nodes put 32-bit values in long_value; the datatype, not the field, decides signedness.
            case DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64 when kind == Payload.Types.Metric.ValueOneofCase.LongValue:
                value = unchecked((long)metric.LongValue);
                return true;
            case DataType.Uint8 or DataType.Uint16 or DataType.Uint32 or DataType.Uint64 when kind == Payload.Types.Metric.ValueOneofCase.LongValue:
                value = metric.LongValue;
                return true;
            case DataType.Float when kind == Payload.Types.Metric.ValueOneofCase.FloatValue:
                value = metric.FloatValue;
                return true;
            case DataType.Double when kind == Payload.Types.Metric.ValueOneofCase.DoubleValue:
                value = metric.DoubleValue;
                return true;
            case DataType.Boolean when kind == Payload.Types.Metric.ValueOneofCase.BooleanValue:
                value = metric.BooleanValue ? 1 : 0;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The integer <c>bdSeq</c> metric of a birth or death; false when there is none or it is not an integer.</summary>
    internal static bool TryGetBdSeq(Payload payload, out long bdSeq)
    {
        foreach (var metric in payload.Metrics)
        {
            if (metric.Name == SparkplugCodec.BdSeqMetric)
            {
                switch (metric.ValueCase)
                {
                    case Payload.Types.Metric.ValueOneofCase.LongValue:
                        bdSeq = unchecked((long)metric.LongValue);
                        return true;
                    case Payload.Types.Metric.ValueOneofCase.IntValue:
                        bdSeq = metric.IntValue;
                        return true;
                    default:
                        bdSeq = 0;
                        return false;
                }
            }
        }

        bdSeq = 0;
        return false;
    }
}
