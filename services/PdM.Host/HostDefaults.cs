namespace PdM.Host;

internal static class HostDefaults
{
    /// <summary>
    /// Content root at the executable's folder, so appsettings*.json are found whichever directory the host is
    /// started from (make run starts it from the repository root).
    /// </summary>
    public static WebApplicationOptions Options(string[] args) => new() { Args = args, ContentRootPath = AppContext.BaseDirectory };
}
