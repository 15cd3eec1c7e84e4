using MassTransit;
using Npgsql;
using PdM.Host;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>
/// The first start of a split deployment (docker-compose: <c>migrate</c>, then one process per module, gateways
/// whenever they come up): a prediction that reaches the bus before Maintenance has ever run must wait for it.
/// RabbitMQ confirms and drops a message published to an exchange no queue is bound to, so the queue has to exist
/// before the module first starts: <c>migrate</c> declares it.
/// </summary>
public sealed class FirstStartTests
{
    [Fact]
    public async Task After_migrate_a_prediction_published_before_Maintenance_ever_ran_waits_in_its_queue_and_becomes_a_work_order()
    {
        await using var backend = await ModuleTestBackend.CreateAsync("firststart");
        var settings = backend.HostArguments("Maintenance");
        Assert.Equal(0, await MigrateCommand.RunAsync(settings));

        // Published as the gateways publish (mandatory, confirmed): without the queue the broker returns it, and the
        // publish fails with MessageReturnedException.
        var publisher = TestBus.Create(backend.RabbitMq);
        await publisher.StartAsync();
        var prediction = TestPredictions.Vibration("first-start-site", "P-101", TestPredictions.Rules("gw-first-start"));
        try
        {
            await publisher.Publish(prediction, context => context.Mandatory = true);
        }
        finally
        {
            await publisher.StopAsync();
        }

        // Only now does Maintenance start, for the first time.
        await using var app = HostComposition.Build(settings);
        await app.StartAsync();
        try
        {
            var workOrders = await Eventually.Until(() => WorkOrdersFor(backend.ConnectionString, prediction.AssetId), n => n > 0,
                TimeSpan.FromSeconds(60), "the prediction published before Maintenance first started to become a work order");
            Assert.Equal(1, workOrders);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static async Task<long> WorkOrdersFor(string connectionString, string asset)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM maintenance.work_orders WHERE asset_id = @asset", connection);
        command.Parameters.AddWithValue("asset", asset);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
