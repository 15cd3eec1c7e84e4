using System.Net.Http.Json;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PdM.Lineage.Api;
using PdM.Lineage.Audit;
using PdM.Lineage.Persistence;
using PdM.Testing;

namespace PdM.Lineage.Tests;

/// <summary>
/// A Lineage host with its own PostgreSQL database and RabbitMQ vhost. Used as a class fixture: each test class gets
/// its own chain, so a tampering test cannot break another class's chain.
/// </summary>
public sealed class LineageFixture : IAsyncLifetime
{
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web);

    private ModuleTestHost? _host;

    public HttpClient Api { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    public IBus Bus => _host!.Services.GetRequiredService<IBus>();

    public string ConnectionString => _host!.Backend!.ConnectionString;

    public async Task InitializeAsync()
    {
        _host = await ModuleTestHost.StartAsync(LineageModule.Descriptor, await ModuleTestBackend.CreateAsync("lineage"), [], Logs, environment: "Production");
        Api = _host.Api;
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    /// <summary>Runs <paramref name="action"/> with a scoped <see cref="AuditLog"/>, as a consumer would.</summary>
    public async Task<T> WithAudit<T>(Func<AuditLog, Task<T>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        await using var scope = _host!.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<AuditLog>());
    }

    public async Task<AuditVerification> Verify() => (await Api.GetFromJsonAsync<AuditVerification>("/api/audit/verify", ApiJson))!;

    public async Task<List<AuditEntryResponse>> Entries(string? subject = null) =>
        await Api.GetFromJsonAsync<List<AuditEntryResponse>>("/api/audit?limit=500" + (subject is null ? "" : "&subject=" + Uri.EscapeDataString(subject)), ApiJson) ?? [];

    /// <summary>SQL straight at the database, as someone with access to it (not through the application).</summary>
    public async Task<int> Sql(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    public static AuditRecord Record(int i) =>
        new($"user-{i}", "test.action", $"thing:{i}", null, new string((char)('a' + (i % 6)), 64), $"{{\"n\":{i}}}", DateTimeOffset.UtcNow);
}
