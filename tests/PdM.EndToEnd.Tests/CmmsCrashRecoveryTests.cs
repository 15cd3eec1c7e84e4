using MassTransit;
using Npgsql;
using PdM.Cmms.Stubs;
using PdM.Contracts.Decisions;
using PdM.Host;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>
/// A process crash between send and acknowledgement (docs/architecture.md, Maintenance → CMMS): Maintenance runs as its
/// own PdM.Host process and is SIGKILLed after Maximo carried out a create but before the answer reached it, so the
/// outbox row was never acknowledged. The restarted process must find the record by its reference, not create another.
/// </summary>
public sealed class CmmsCrashRecoveryTests
{
    private const string MaximoKey = "crash-maximo-key";
    private const string Asset = "PUMP-1";

    [Fact]
    public async Task Maintenance_killed_after_Maximo_accepted_a_create_leaves_one_record_once_restarted()
    {
        var site = LocalDependencies.UniqueName("crash-mx").Replace('_', '-');
        await using var backend = await ModuleTestBackend.CreateAsync("cmmscrash");
        await using var cmms = await CmmsStubServer.StartAsync(configure: o => o.MaximoApiKey = MaximoKey);

        // Maximo's answers come back late through this link: the window in which the record exists and Maintenance does
        // not know it yet, wide enough to kill the process in.
        await using var link = new LoopbackTcpProxy("127.0.0.1", cmms.BaseAddress.Port);
        string[] settings =
        [
            .. backend.HostArguments("Maintenance"),
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:PdM.Maintenance=Information",
            "--Maintenance:Delivery:PollInterval=00:00:00.200",
            $"--Maintenance:Sites:{site}:Cmms:Adapter=Maximo",
            $"--Maintenance:Sites:{site}:Cmms:Maximo:BaseUrl=http://127.0.0.1:{link.Port}/t/{site}/maximo",
            $"--Maintenance:Sites:{site}:Cmms:Maximo:ApiKey={MaximoKey}",
            $"--Maintenance:Sites:{site}:Cmms:Maximo:CreateWorkOrders=true",
            .. MaintenanceSiteArguments.MaximoPump(site, Asset),
            $"--Maintenance:Sites:{site}:FailureModes:VIB:Mechanism=2.4",
            $"--Maintenance:Sites:{site}:FailureModes:VIB:ProblemCode=VIB",
        ];
        Assert.Equal(0, await MigrateCommand.RunAsync(settings));
        var tenant = cmms.Maximo.Tenant(site);

        Guid workOrderId;
        using (var first = ChildProcess.Start(LocalDependencies.ProgramDll("services", "PdM.Host"), settings, "PdM bus ready"))
        {
            await first.WaitReadyAsync();
            link.Latency = TimeSpan.FromSeconds(2);
            await PublishAsync(backend.RabbitMq, TestPredictions.Vibration(site, Asset, TestPredictions.Rules("gw-crash")));

            // Maximo has the record; its 201 is still on the way back. Kill now.
            await Eventually.Until(() => Task.FromResult(tenant.Records.Count), n => n > 0, TimeSpan.FromSeconds(60), "Maximo to carry out the create");
            first.Kill();
            var unacknowledged = await WorkOrderAsync(backend.ConnectionString);
            Assert.NotNull(unacknowledged);
            workOrderId = unacknowledged.Value.Id;
            Assert.Null(unacknowledged.Value.RecordId);
            Assert.Equal("Pending", unacknowledged.Value.Delivery);
            Assert.Equal("Pending", unacknowledged.Value.Outbox);
        }

        // Restarted: it takes the outbox over once the killed process's lease has run out (30 s) and sends the row again.
        link.Latency = TimeSpan.Zero;
        using var second = ChildProcess.Start(LocalDependencies.ProgramDll("services", "PdM.Host"), settings, "PdM bus ready");
        await second.WaitReadyAsync();
        var delivered = await Eventually.Until(() => WorkOrderAsync(backend.ConnectionString), w => w?.Delivery == "Delivered",
            TimeSpan.FromSeconds(90), "the restarted process to deliver the work order");

        var record = Assert.Single(tenant.Records.Values);
        Assert.Equal(workOrderId, delivered!.Value.Id);
        Assert.Equal(record.Id, delivered.Value.RecordId);
        Assert.Equal(1, record.UpdateCount);
        Assert.Equal("Delivered", delivered.Value.Outbox);
        Assert.Contains(second.Output, line => line.Contains("delivered to maximo (updated)", StringComparison.Ordinal));
        second.Kill();
    }

    /// <summary>Published as a gateway publishes: confirmed by the broker.</summary>
    private static async Task PublishAsync(Uri rabbitMq, FailurePredicted prediction)
    {
        var publisher = TestBus.Create(rabbitMq);
        await publisher.StartAsync();
        try
        {
            await publisher.Publish(prediction);
        }
        finally
        {
            await publisher.StopAsync();
        }
    }

    /// <summary>The only work order, its CMMS record id and delivery state, and the state of its newest CMMS outbox row.</summary>
    private static async Task<(Guid Id, string? RecordId, string Delivery, string Outbox)?> WorkOrderAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(
            "SELECT w.id, w.cmms_record_id, w.delivery_state, o.status FROM maintenance.work_orders w " +
            "JOIN maintenance.outbox o ON o.stream = 'cmms:' || replace(w.id::text, '-', '') ORDER BY o.id DESC LIMIT 1", connection);
        await using var reader = await query.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? (reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.GetString(3))
            : null;
    }
}
