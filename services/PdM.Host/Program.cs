using PdM.Host;

if (args.Length > 0 && args[0] == "migrate")
{
    return await MigrateCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "redeliver")
{
    return await RedeliverCommand.RunAsync(args[1..]);
}

var app = HostComposition.Build(args);
await app.RunAsync();
return 0;

/// <summary>Entry point type, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
