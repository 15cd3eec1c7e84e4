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
/// And the bound that keeps two replicas from sending one row at once: a delivery past its attempt timeout is abandoned.
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
        // A short lease (the default is two minutes) so the restarted process need not wait long for the killed one's.
        var settings = Settings(backend, site, link.Port,
            "--Maintenance:Delivery:RequestTimeout=00:00:10", "--Maintenance:Delivery:AttemptTimeout=00:00:12", "--Maintenance:Delivery:LeaseDuration=00:00:24");
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

        // Restarted: it takes the outbox over once the killed process's lease has run out and sends the row again.
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

    /// <summary>
    /// The outbox lease is renewed only between deliveries, so one delivery must not outlast half of it, however many
    /// requests it makes: each of Maximo's answers here comes within the request timeout, but the lookup and the create
    /// together do not come within the attempt timeout. The attempt is abandoned (a CMMS that did not answer, retried)
    /// rather than left to run past the lease, where another replica would take the row over and send it beside this
    /// one. Maximo carries the abandoned create out anyway; the retry finds it by its reference: one record.
    /// </summary>
    [Fact]
    public async Task A_delivery_slower_than_the_attempt_timeout_is_abandoned_and_retried_leaving_one_record()
    {
        var site = LocalDependencies.UniqueName("slow-mx").Replace('_', '-');
        await using var backend = await ModuleTestBackend.CreateAsync("cmmsslow");
        await using var cmms = await CmmsStubServer.StartAsync(configure: o => o.MaximoApiKey = MaximoKey);
        // Every answer 4 s late: the lookup (4 s) comes within the 5 s request timeout, the lookup and the create (8 s)
        // do not come within the 6 s attempt timeout.
        var settings = Settings(backend, site, cmms.BaseAddress.Port,
            "--Maintenance:Delivery:RequestTimeout=00:00:05", "--Maintenance:Delivery:AttemptTimeout=00:00:06", "--Maintenance:Delivery:LeaseDuration=00:00:20",
            "--Maintenance:Delivery:BackoffBase=00:00:00.200", "--Maintenance:Delivery:BackoffMax=00:00:01",
            // The abandoned create is in doubt: the retry's lookup waits this long (2 min by default) for Maximo to finish it.
            "--Maintenance:Delivery:InDoubtWait=00:00:02");
        Assert.Equal(0, await MigrateCommand.RunAsync(settings));
        var tenant = cmms.Maximo.Tenant(site);
        tenant.AnswerDelay = TimeSpan.FromSeconds(4);

        using var host = ChildProcess.Start(LocalDependencies.ProgramDll("services", "PdM.Host"), settings, "PdM bus ready");
        await host.WaitReadyAsync();
        await PublishAsync(backend.RabbitMq, TestPredictions.Vibration(site, Asset, TestPredictions.Rules("gw-slow")));

        await Eventually.Until(() => Task.FromResult(host.Output.Any(l => l.Contains("did not finish the delivery within Maintenance:Delivery:AttemptTimeout", StringComparison.Ordinal))),
            abandoned => abandoned, TimeSpan.FromSeconds(60), "the slow attempt to be abandoned at the attempt timeout");
        Assert.Equal("Pending", (await WorkOrderAsync(backend.ConnectionString))?.Delivery);

        // Maximo carried the create out; only its answer was late. Quick again, the retry's lookup must find that record.
        Assert.Single(tenant.Records.Values);
        tenant.AnswerDelay = TimeSpan.Zero;
        var delivered = await Eventually.Until(() => WorkOrderAsync(backend.ConnectionString), w => w?.Delivery == "Delivered",
            TimeSpan.FromSeconds(60), "the retry to deliver the work order once Maximo is quick again");
        var record = Assert.Single(tenant.Records.Values);
        Assert.Equal(record.Id, delivered!.Value.RecordId);
        host.Kill();
    }

    /// <summary>One Maintenance process whose site's Maximo answers on 127.0.0.1:<paramref name="maximoPort"/>.</summary>
    private static string[] Settings(ModuleTestBackend backend, string site, int maximoPort, params string[] delivery) =>
    [
        .. backend.HostArguments("Maintenance"),
        "--Logging:LogLevel:Default=Warning",
        "--Logging:LogLevel:PdM.Maintenance=Information",
        "--Maintenance:Delivery:PollInterval=00:00:00.200",
        .. delivery,
        $"--Maintenance:Sites:{site}:Cmms:Adapter=Maximo",
        $"--Maintenance:Sites:{site}:Cmms:Maximo:BaseUrl=http://127.0.0.1:{maximoPort}/t/{site}/maximo",
        $"--Maintenance:Sites:{site}:Cmms:Maximo:ApiKey={MaximoKey}",
        $"--Maintenance:Sites:{site}:Cmms:Maximo:CreateWorkOrders=true",
        .. MaintenanceSiteArguments.MaximoPump(site, Asset),
        $"--Maintenance:Sites:{site}:FailureModes:VIB:Mechanism=2.4",
        $"--Maintenance:Sites:{site}:FailureModes:VIB:ProblemCode=VIB",
    ];

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
