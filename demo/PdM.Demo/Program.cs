using PdM.Demo;
using PdM.Host;

if (args.Length > 0 && args[0] == "migrate")
{
    return await MigrateCommand.RunAsync(DemoComposition.WithDemoEnvironment(args[1..]));
}

var app = DemoComposition.Build(args);
await app.RunAsync();
return 0;
