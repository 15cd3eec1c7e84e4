using Microsoft.AspNetCore.Builder;

namespace PdM.Cmms.Stubs;

/// <summary><c>dotnet run --project services/PdM.Cmms.Stubs</c>: the stubs on http://127.0.0.1:5090 (or <c>--urls</c>).</summary>
public static class StubProgram
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:5090");
        }

        builder.Services.AddCmmsStubs(builder.Configuration);
        var app = builder.Build();
        app.MapCmmsStubs();
        await app.RunAsync();
    }
}
