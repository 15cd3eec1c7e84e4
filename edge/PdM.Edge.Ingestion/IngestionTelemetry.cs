using System.Diagnostics.Metrics;

namespace PdM.Edge.Ingestion;

/// <summary>Owns the ingestion Meter. One instance per ingestion pipeline; dispose with it.</summary>
public sealed class IngestionTelemetry : IDisposable
{
    public const string MeterName = "PdM.Edge.Ingestion";

    private static readonly string[] s_reasonCodes = BuildReasonCodes();
    private readonly Meter _meter;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _deadLetterSuppressed;
    private readonly Counter<long> _rebirthRequests;
    private readonly Counter<long> _assetOffline;

    public IngestionTelemetry(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _accepted = _meter.CreateCounter<long>("pdm.ingest.accepted", "{reading}", "Readings accepted into the pipeline.");
        _rejected = _meter.CreateCounter<long>("pdm.ingest.rejected", "{rejection}", "Messages or readings rejected, by reason.");
        _deadLetterSuppressed = _meter.CreateCounter<long>("pdm.ingest.deadletter.suppressed", "{sample}", "Dead-letter samples not produced because of the per-reason rate limit.");
        _rebirthRequests = _meter.CreateCounter<long>("pdm.ingest.sparkplug.rebirth_requests", "{command}", "Sparkplug NCMD Node Control/Rebirth commands issued.");
        _assetOffline = _meter.CreateCounter<long>("pdm.ingest.sparkplug.asset_offline", "{event}", "Assets reported offline by NDEATH/DDEATH.");

        // Every reason at 0 from the start: a dashboard's rate() and an alert see "none yet", not "no such metric".
        foreach (var code in s_reasonCodes)
        {
            _rejected.Add(0, new KeyValuePair<string, object?>("reason", code));
        }
    }

    public Meter Meter => _meter;

    internal void Accepted(int readings, MessageFormat format)
    {
        if (readings > 0)
        {
            _accepted.Add(readings, new KeyValuePair<string, object?>("format", FormatCode(format)));
        }
    }

    internal void Rejected(RejectReason reason) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("reason", s_reasonCodes[(int)reason]));

    internal void DeadLetterSuppressed(RejectReason reason) =>
        _deadLetterSuppressed.Add(1, new KeyValuePair<string, object?>("reason", s_reasonCodes[(int)reason]));

    internal void RebirthRequested() => _rebirthRequests.Add(1);

    internal void AssetOffline() => _assetOffline.Add(1);

    public void Dispose() => _meter.Dispose();

    internal static string FormatCode(MessageFormat format) => format switch
    {
        MessageFormat.PdmJson => "pdm_json",
        MessageFormat.ThingsBoardDevice => "thingsboard_device",
        MessageFormat.ThingsBoardGateway => "thingsboard_gateway",
        MessageFormat.AzureIotHub => "azure_iot_hub",
        MessageFormat.SparkplugB => "sparkplug_b",
        MessageFormat.SparkplugState => "sparkplug_state",
        _ => "unknown",
    };

    private static string[] BuildReasonCodes()
    {
        var codes = new string[RejectReasons.Count];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = ((RejectReason)i).ToCode();
        }

        return codes;
    }
}
