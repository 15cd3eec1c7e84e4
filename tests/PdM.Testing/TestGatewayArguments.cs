using System.Globalization;

namespace PdM.Testing;

/// <summary>Command-line arguments for a gateway under test, in process (<c>GatewayApplication.Build</c>) or as its own process.</summary>
public static class TestGatewayArguments
{
    /// <summary>
    /// A gateway of <paramref name="site"/> on the local Mosquitto (client id <c>gw-{site}</c>) and on
    /// <paramref name="rabbitMq"/>, on any free HTTP port, with the per-reading feature spec and a journal of its own
    /// in the temporary folder. A test appends what it changes.
    /// </summary>
    public static List<string> For(string site, Uri rabbitMq) =>
    [
        .. OnLocalBrokers(site, rabbitMq), $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}",
        $"--Journal:Path={Path.Combine(Path.GetTempPath(), "pdm-tests", site, "journal.db")}",
    ];

    /// <summary>
    /// <see cref="For"/> without the feature spec and the journal, for a test that names its own journal and its own
    /// spec (or none: the gateway's default).
    /// </summary>
    public static List<string> OnLocalBrokers(string site, Uri rabbitMq) =>
    [
        "--Urls=http://127.0.0.1:0", "--Messaging:Transport=RabbitMq", $"--Messaging:RabbitMq:Uri={rabbitMq}",
        $"--Gateway:SiteId={site}", $"--Gateway:Mqtt:Host={LocalDependencies.MqttHost}",
        string.Create(CultureInfo.InvariantCulture, $"--Gateway:Mqtt:Port={LocalDependencies.MqttPort}"),
        $"--Gateway:Mqtt:ClientId=gw-{site}",
    ];

    /// <summary>Centrifugal pumps <c>P0</c>, <c>P1</c>… with one vibration sensor each (mm/s, valid 0–100), the sensor the per-reading spec reads.</summary>
    public static IEnumerable<string> Pumps(int count) =>
        Pumps(Enumerable.Range(0, count).Select(a => string.Create(CultureInfo.InvariantCulture, $"P{a}")));

    /// <summary>Centrifugal pumps named <paramref name="ids"/>, as <see cref="Pumps(int)"/>.</summary>
    public static IEnumerable<string> Pumps(IEnumerable<string> ids) =>
        ids.SelectMany((id, a) =>
        {
            var asset = string.Create(CultureInfo.InvariantCulture, $"--AssetModel:Assets:{a}");
            return new[]
            {
                $"{asset}:Id={id}", $"{asset}:AssetClass=centrifugal-pump", $"{asset}:Sensors:0:Id=vibration_rms_mm_s",
                $"{asset}:Sensors:0:Unit=mm/s", $"{asset}:Sensors:0:ValidMin=0", $"{asset}:Sensors:0:ValidMax=100",
            };
        });
}
