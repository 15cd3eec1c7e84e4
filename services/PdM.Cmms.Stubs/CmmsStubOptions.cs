namespace PdM.Cmms.Stubs;

/// <summary>Section <c>CmmsStubs</c>: the credentials every tenant starts with (a tenant can be given its own).</summary>
public sealed class CmmsStubOptions
{
    public const string Section = "CmmsStubs";
    public const string DefaultTenant = "default";

    /// <summary>Start the stubs inside the all-in-one demo (<c>demo/PdM.Demo</c>).</summary>
    public bool Enabled { get; set; }

    /// <summary>Loopback port for the in-host stub server; 0 picks a free one.</summary>
    public int Port { get; set; } = 18091;

    public string MaximoApiKey { get; set; } = "stub-maximo-key";

    public string SapUser { get; set; } = "PDM_RFC";

    public string SapPassword { get; set; } = "stub-sap-password";

    /// <summary>The <c>sap-client</c> every request must name; empty accepts any (S/4HANA Cloud has none).</summary>
    public string SapClient { get; set; } = "100";

    public string WebhookSecret { get; set; } = "stub-webhook-secret";

    /// <summary>How every tenant writes <c>Location</c> and hrefs unless a test sets its own.</summary>
    public StubLinkStyle Links { get; set; } = StubLinkStyle.Absolute;

    /// <summary>
    /// When set, a "planner" completes the first record of the default Maximo and SAP tenants this long after it was
    /// created (Maximo: status COMP keeping the work order's failure class and problem code; SAP: phase 4 with the
    /// item's damage code), so the demo shows an outcome coming back. Null: records stay open until a test closes them.
    /// </summary>
    public TimeSpan? CompleteFirstAfter { get; set; }
}
