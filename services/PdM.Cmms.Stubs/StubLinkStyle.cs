namespace PdM.Cmms.Stubs;

/// <summary>
/// How a stub writes the links it returns (<c>Location</c>, Maximo <c>href</c>, SAP <c>__metadata.uri</c>). Real systems
/// answer with each of these; RFC 9110 §10.2.2 allows a relative <c>Location</c>, which the client resolves against the
/// request's URI (the service root).
/// </summary>
public enum StubLinkStyle
{
    /// <summary><c>http://host:port/…/MaintenanceNotification('1')</c></summary>
    Absolute = 0,

    /// <summary><c>/sap/opu/odata/sap/API_MAINTNOTIFICATION/MaintenanceNotification('1')</c></summary>
    PathAbsolute = 1,

    /// <summary><c>MaintenanceNotification('1')</c> or Maximo's <c>api/os/mxapisr/_…</c>: relative to the service root.</summary>
    Relative = 2,
}
