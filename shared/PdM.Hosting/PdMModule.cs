using MassTransit;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace PdM.Hosting;

/// <summary>
/// How a cloud module plugs into <c>PdM.Host</c>: its services, its consumers on the one bus, its HTTP endpoints and the
/// EF Core context whose migrations <c>PdM.Host migrate</c> applies. The host composes any subset of these.
/// </summary>
public sealed record PdMModule(
    string Name,
    Action<IHostApplicationBuilder> AddServices,
    Action<IBusRegistrationConfigurator> AddConsumers,
    Action<IEndpointRouteBuilder> MapEndpoints,
    Type? DbContextType);
