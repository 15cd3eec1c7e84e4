using PdM.Edge.Gateway;
using PdM.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddPdMServiceDefaults("pdm-gateway");
builder.AddPdMMessaging();
builder.AddEdgeGateway();

var app = builder.Build();
app.MapPdMDefaultEndpoints();
await app.RunAsync();
