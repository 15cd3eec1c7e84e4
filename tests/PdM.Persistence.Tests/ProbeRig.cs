using System.Collections.Concurrent;
using System.Globalization;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Npgsql;
using PdM.Messaging;
using PdM.Persistence.Replica;
using PdM.Testing;

namespace PdM.Persistence.Tests;

/// <summary>One message as the broker handed it to the collector, with the id of the process that published it (from its envelope).</summary>
public sealed record Received(Guid MessageId, ProbeMessage Message, DateTimeOffset At, int? SenderProcessId);

/// <summary>
/// A probe outbox in a database of its own, a vhost of its own, and a collector that takes every published message
/// off one queue, one at a time (so its arrival order is the publish order).
/// </summary>
public sealed class ProbeRig : IAsyncDisposable
{
    private readonly IBusControl _collector;
    private readonly List<IHost> _replicas = [];

    private ProbeRig(TestDatabase database, Uri vhost, IBusControl collector, ConcurrentQueue<Received> received)
    {
        Database = database;
        VirtualHost = vhost;
        _collector = collector;
        Received = received;
    }

    public TestDatabase Database { get; }

    public Uri VirtualHost { get; }

    public ConcurrentQueue<Received> Received { get; }

    public static async Task<ProbeRig> StartAsync(string name)
    {
        var database = await TestDatabase.CreateAsync(name);
        await using (var db = Context(database.ConnectionString))
        {
            await db.Database.EnsureCreatedAsync();
        }

        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName(name));
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        var received = new ConcurrentQueue<Received>();
        var collector = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h =>
            {
                h.Username(endpoint.Username);
                h.Password(endpoint.Password);
            });
            cfg.ReceiveEndpoint("probe-collector", e =>
            {
                e.PrefetchCount = 1;
                e.ConcurrentMessageLimit = 1;
                e.Handler<ProbeMessage>(context =>
                {
                    received.Enqueue(new Received(context.MessageId!.Value, context.Message, DateTimeOffset.UtcNow, context.Host?.ProcessId));
                    return Task.CompletedTask;
                });
            });
        });
        await collector.StartAsync();
        return new ProbeRig(database, vhost, collector, received);
    }

    /// <summary>
    /// Configuration of a replica on this rig: short lease, poll and backoff so a takeover happens within seconds. The
    /// publish timeout is the longest the lease allows (half of it): a confirm that arrives after the timeout is a
    /// publish the dispatcher retries under the same message id, i.e. a duplicate the collector (which has no inbox)
    /// would count. With a 1 s timeout a loaded test machine produced exactly that, once in a few full runs.
    /// </summary>
    public Dictionary<string, string?> Settings(TimeSpan lease) => new()
    {
        ["ConnectionStrings:Postgres"] = Database.ConnectionString,
        ["Messaging:Transport"] = "RabbitMq",
        ["Messaging:RabbitMq:Uri"] = VirtualHost.ToString(),
        ["Outbox:PollInterval"] = "00:00:00.100",
        ["Outbox:PublishTimeout"] = (lease / 2).ToString("c", CultureInfo.InvariantCulture),
        ["Outbox:BackoffBase"] = "00:00:00.100",
        ["Outbox:MaxBackoff"] = "00:00:01",
        ["Outbox:BatchSize"] = "10",
        ["Outbox:LeaseDuration"] = lease.ToString("c", CultureInfo.InvariantCulture),
    };

    /// <summary>An in-process replica, started.</summary>
    public async Task<IHost> StartReplicaAsync(TimeSpan lease)
    {
        var replica = ReplicaHost.Build(Settings(lease));
        _replicas.Add(replica);
        await replica.StartAsync();
        return replica;
    }

    /// <summary>
    /// Writes messages <paramref name="from"/>.. of <paramref name="stream"/>, one committed transaction each (as a module
    /// writes them), or all in one when <paramref name="atOnce"/> (a backlog the dispatcher finds whole).
    /// </summary>
    public async Task WriteAsync(string stream, int from, int count, bool atOnce = false)
    {
        await using var db = Context(Database.ConnectionString);
        for (var i = from; i < from + count; i++)
        {
            db.Outbox.Add(ProbeDbContext.Routes.Create(new ProbeMessage(stream, i), ProbeJsonContext.Default.ProbeMessage, DateTimeOffset.UtcNow));
            if (!atOnce)
            {
                await db.SaveChangesAsync();
            }
        }

        await db.SaveChangesAsync();
    }

    /// <summary>The lease row: who holds it and until when (PostgreSQL's clock).</summary>
    public async Task<(string Holder, DateTimeOffset ExpiresAt)?> LeaseAsync()
    {
        await using var db = Context(Database.ConnectionString);
        var lease = await db.Set<OutboxLease>().AsNoTracking().SingleOrDefaultAsync();
        return lease is null ? null : (lease.Holder, lease.ExpiresAt);
    }

    /// <summary>
    /// When the connections named <paramref name="applicationName"/> (the connection string's <c>Application Name</c>)
    /// last ran a statement, on PostgreSQL's clock; null when none is open. Shows a child replica is talking to the
    /// database even when nothing it does changes a row.
    /// </summary>
    public async Task<DateTimeOffset?> LastStatementAsync(string applicationName)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT max(state_change) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = applicationName });
        return await command.ExecuteScalarAsync() is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }

    public async Task<List<OutboxMessage>> RowsAsync()
    {
        await using var db = Context(Database.ConnectionString);
        return await db.Outbox.AsNoTracking().OrderBy(m => m.Id).ToListAsync();
    }

    public static ProbeDbContext Context(string connectionString) =>
        new(new DbContextOptionsBuilder<ProbeDbContext>().UseNpgsql(connectionString).Options);

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.StopAsync();
            replica.Dispose();
        }

        await _collector.StopAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>
/// A replica as a child process: <see cref="Kill"/> is SIGKILL, so its lease is left behind unreleased; <see cref="Freeze"/>
/// stops it with its lease and connections as they are; <see cref="StopAsync"/> is the graceful stop a deploy makes.
/// </summary>
public sealed class ReplicaProcess : IDisposable
{
    private const string HolderLine = "holder ";
    private readonly ChildProcess _child;

    private ReplicaProcess(ChildProcess child, string holder)
    {
        _child = child;
        Holder = holder;
    }

    public string Holder { get; }

    /// <summary>What the child wrote (drained all along: a child blocked on a full pipe would stop renewing its lease).</summary>
    public string Output => string.Join('\n', _child.Output);

    /// <summary>The replica program: bin/&lt;Configuration&gt;/&lt;tfm&gt;/ of this test assembly, mirrored in the replica's project folder.</summary>
    public static string Program
    {
        get
        {
            var tfmFolder = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            return Path.Combine(LocalDependencies.RepositoryRoot, "tests", "PdM.Persistence.Replica", "bin", tfmFolder.Parent!.Name, tfmFolder.Name, "PdM.Persistence.Replica.dll");
        }
    }

    /// <summary>The child's process id, as the collector sees it on the messages it published.</summary>
    public int ProcessId => _child.Id;

    public bool HasExited => _child.HasExited;

    public static async Task<ReplicaProcess> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var child = ChildProcess.Start(Program, settings.Select(s => $"--{s.Key}={s.Value}"), HolderLine);
        try
        {
            // The replica writes "holder <id>" once its dispatcher runs.
            await child.WaitReadyAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            child.Dispose();
            throw;
        }

        return new ReplicaProcess(child, child.Output.First(line => line.StartsWith(HolderLine, StringComparison.Ordinal))[HolderLine.Length..]);
    }

    /// <summary>SIGKILL, as <c>kill -9</c>: no shutdown, no lease release.</summary>
    public void Kill() => _child.Kill();

    /// <summary>SIGSTOP: the replica stops running mid-whatever, its lease row and connections left as they are.</summary>
    public void Freeze() => _child.Signal("STOP");

    /// <summary>SIGCONT: the frozen replica runs on from where it stopped, unaware of the time that passed.</summary>
    public void Thaw() => _child.Signal("CONT");

    /// <summary>SIGTERM, as Kubernetes stops a pod: the host's graceful stop. Its exit code.</summary>
    public Task<int> StopAsync(TimeSpan timeout)
    {
        _child.Signal("TERM");
        return _child.WaitForExitAsync(timeout);
    }

    public void Dispose() => _child.Dispose();
}
