using System.Reflection;

namespace PdM.Cmms.Stubs.Contracts;

/// <summary>The contract files embedded in this assembly (Contracts/README.md says where each comes from).</summary>
public static class ContractFile
{
    public const string SapMaintenanceNotification = "API_MAINTNOTIFICATION.edmx";
    public const string MaximoWorkOrder = "mxapiwodetail.json";
    public const string MaximoServiceRequest = "mxapisr.json";

    public static Stream Open(string name)
    {
        var resource = $"PdM.Cmms.Stubs.Contracts.{name}";
        return Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"contract file {name} is not embedded (resource {resource})");
    }

    public static string Text(string name)
    {
        using var reader = new StreamReader(Open(name));
        return reader.ReadToEnd();
    }
}
