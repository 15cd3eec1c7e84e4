using System.ComponentModel.DataAnnotations;

namespace PdM.Host;

/// <summary>
/// Section <c>PdM:Edge</c>: the plant side hosted in-process, for the all-in-one demo (<c>make run</c>). In production
/// the gateway and simulator run as their own processes next to a real broker, and all of this stays off.
/// </summary>
public sealed class EdgeOptions
{
    public const string Section = "PdM:Edge";

    /// <summary>MQTTnet's in-process broker on 127.0.0.1.</summary>
    public bool EmbeddedBroker { get; set; }

    [Range(1, 65535)]
    public int EmbeddedBrokerPort { get; set; } = 18830;

    public bool Gateway { get; set; }

    public bool Simulator { get; set; }
}
