using System.ComponentModel.DataAnnotations;

namespace PdM.Demo;

/// <summary>
/// Section <c>Demo:Edge</c>: the plant side hosted in-process for the all-in-one demo. In production the gateway and
/// the simulator run as their own processes next to a real broker (docker-compose.yml).
/// </summary>
public sealed class DemoEdgeOptions
{
    public const string Section = "Demo:Edge";

    /// <summary>MQTTnet's in-process broker on 127.0.0.1.</summary>
    public bool EmbeddedBroker { get; set; } = true;

    [Range(1, 65535)]
    public int EmbeddedBrokerPort { get; set; } = 18830;

    public bool Gateway { get; set; } = true;

    public bool Simulator { get; set; } = true;
}
