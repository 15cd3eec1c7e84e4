using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using PdM.Messaging;
using PdM.Persistence;

namespace PdM.Persistence.Replica;

/// <summary>What the probe outbox carries: the n-th message of a stream.</summary>
public sealed record ProbeMessage(string Stream, int Sequence);

[JsonSerializable(typeof(ProbeMessage))]
public sealed partial class ProbeJsonContext : JsonSerializerContext;

/// <summary>A module's context reduced to the shared outbox and inbox, in schema <c>probe</c>.</summary>
public sealed class ProbeDbContext(DbContextOptions<ProbeDbContext> options) : DbContext(options)
{
    public const string Schema = "probe";

    public static OutboxRoutes Routes { get; } = new OutboxRoutes().Publish(ProbeJsonContext.Default.ProbeMessage, m => m.Stream);

    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.AddPdMOutboxAndInbox();
    }
}

/// <summary>A replica as a module host composes it: PostgreSQL, the bus, the probe outbox (options section <c>Outbox</c>).</summary>
public static class ReplicaHost
{
    public static IHost Build(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddPdMPostgres();
        builder.Services.AddDbContext<ProbeDbContext>((services, options) => options.UseNpgsql(services.GetRequiredService<NpgsqlDataSource>()));
        builder.AddPdMMessaging();
        builder.Services.AddPdMOutbox<ProbeDbContext>(ProbeDbContext.Schema, ProbeDbContext.Routes).BindConfiguration("Outbox");
        return builder.Build();
    }

    /// <summary>This replica's lease holder id, as stored in <c>probe.outbox_lease</c>.</summary>
    public static string Holder(IHost host) => host.Services.GetRequiredService<OutboxDispatcher<ProbeDbContext>>().Holder;
}
