namespace PdM.Testing;

/// <summary>
/// What a cloud module's test suite runs against: a fresh PostgreSQL database and a RabbitMQ vhost of its own, and the
/// settings that point a <see cref="ModuleTestHost"/> at them. The database is dropped on dispose; dispose the host first
/// (a host started on the backend itself owns it and does so).
/// </summary>
public sealed class ModuleTestBackend : IAsyncDisposable
{
    private readonly TestDatabase _database;

    private ModuleTestBackend(TestDatabase database, Uri rabbitMq)
    {
        _database = database;
        RabbitMq = rabbitMq;
    }

    public string ConnectionString => _database.ConnectionString;

    /// <summary>The suite's vhost, as an AMQP URI with credentials.</summary>
    public Uri RabbitMq { get; }

    /// <summary>The connection string and the RabbitMQ transport, as configuration; a suite adds its module's own settings to a copy.</summary>
    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["ConnectionStrings:Postgres"] = ConnectionString,
        ["Messaging:Transport"] = "RabbitMq",
        ["Messaging:RabbitMq:Uri"] = RabbitMq.ToString(),
    };

    /// <summary>
    /// PdM.Host's command line for <paramref name="modules"/> on this backend (for <c>MigrateCommand</c>, an in-process
    /// <c>HostComposition</c> or a child process): a free loopback port, the shared test issuer's tokens.
    /// </summary>
    public string[] HostArguments(string modules) =>
    [
        $"--ConnectionStrings:Postgres={ConnectionString}",
        "--Messaging:Transport=RabbitMq",
        $"--Messaging:RabbitMq:Uri={RabbitMq}",
        "--Urls=http://127.0.0.1:0",
        $"--PdM:Modules={modules}",
        .. TestTokenIssuer.Shared.Arguments,
    ];

    /// <param name="prefix">Names the database and the vhost (made unique to the run).</param>
    public static async Task<ModuleTestBackend> CreateAsync(string prefix) =>
        new(await TestDatabase.CreateAsync(prefix), LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName(prefix)));

    public ValueTask DisposeAsync() => _database.DisposeAsync();
}
