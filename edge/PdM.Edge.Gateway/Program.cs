using PdM.Edge.Gateway;

await GatewayApplication.Build(args).RunAsync();
