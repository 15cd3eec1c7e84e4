using System.Globalization;
using PdM.Edge.Journal;

namespace PdM.Edge.Gateway.Uplink;

/// <summary>Section <c>Gateway:Uplink</c>: how much of the plant's link the uplink may use.</summary>
public sealed class UplinkOptions
{
    public const string Section = "Gateway:Uplink";

    private const long MinBytesPerSecond = 1024;
    private const long MinBurstBytes = 4096;

    /// <summary>
    /// The ceiling on what the uplink publishes to RabbitMQ, in bytes per second of serialized messages (MassTransit's
    /// envelope and all, as measured on each publish); 0 means none. It is this gateway's: a site split across several
    /// gateways (<c>Gateway:Sharding</c>) gives each its share.
    /// </summary>
    public long MaxBytesPerSecond { get; set; }

    /// <summary>
    /// What may go at once after a quiet spell (the token bucket's depth). A single message larger than this goes when
    /// the bucket is full, and the uplink then waits until the link has carried it at the ceiling's rate.
    /// </summary>
    public long BurstBytes { get; set; } = 64 * 1024;

    public bool IsLimited => MaxBytesPerSecond > 0;

    public static IReadOnlyList<string> Validate(UplinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.MaxBytesPerSecond < 0)
        {
            problems.Add(Format("MaxBytesPerSecond must be 0 (no ceiling) or positive (was {0})", options.MaxBytesPerSecond));
        }
        else if (options.MaxBytesPerSecond is > 0 and < MinBytesPerSecond)
        {
            // One envelope is about a kilobyte: a lower ceiling could not even carry the heartbeat.
            problems.Add(Format("MaxBytesPerSecond must be at least {0} when set (was {1}); 0 means no ceiling", MinBytesPerSecond, options.MaxBytesPerSecond));
        }

        if (options.BurstBytes < MinBurstBytes)
        {
            problems.Add(Format("BurstBytes must be at least {0} (was {1})", MinBurstBytes, options.BurstBytes));
        }

        return problems;
    }

    private static string Format(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}

/// <summary>
/// The uplink's bandwidth ceiling: a token bucket of bytes (<see cref="UplinkOptions"/>) charged with what each publish
/// actually put on the link. The journal leases only what the bucket holds (<see cref="EdgeJournal.LeaseWithinAsync"/>),
/// estimating an entry's size as its payload plus the largest envelope overhead seen so far; the bucket is then charged
/// the measured size, so an estimate that was short is paid back (a debt) before anything else goes.
/// </summary>
public sealed class UplinkCeiling
{
    // Until the first publish is measured: about what MassTransit's envelope adds to a message (addresses, host, types).
    private const int InitialOverheadBytes = 1024;

    private readonly TokenBucket? _bucket;
    private int _overhead = InitialOverheadBytes;
    private bool _measured;

    public UplinkCeiling(Microsoft.Extensions.Options.IOptions<UplinkOptions> options, GatewayTelemetry telemetry, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(telemetry);
        var value = options.Value;
        telemetry.ObserveUplinkCeiling(value);
        if (value.IsLimited)
        {
            _bucket = new TokenBucket(clock, value.MaxBytesPerSecond, value.BurstBytes);
        }
    }

    public bool IsLimited => _bucket is not null;

    /// <summary>What the next lease may cost: the bytes in the bucket now (negative while a debt is paid back).</summary>
    public LeaseBudget Budget()
    {
        var tokens = _bucket!.Available();
        return new LeaseBudget((long)Math.Floor(tokens), _overhead, FirstAlways: tokens >= _bucket.Burst);
    }

    /// <summary>How long until an entry costing <paramref name="bytes"/> may go (a larger one than the burst: until the bucket is full).</summary>
    public TimeSpan TimeUntil(long bytes) => _bucket!.TimeUntil(bytes);

    /// <summary>A publish put <paramref name="wireBytes"/> on the link for an entry of <paramref name="payloadBytes"/>.</summary>
    public void Sent(long wireBytes, int payloadBytes)
    {
        if (_bucket is null)
        {
            return;
        }

        _bucket.Take(wireBytes);

        // The largest seen, once one is measured: an estimate too high only makes a lease smaller, one too low a debt.
        var overhead = (int)Math.Clamp(wireBytes - payloadBytes, 0, int.MaxValue);
        _overhead = _measured ? Math.Max(_overhead, overhead) : overhead;
        _measured = true;
    }
}
