using System.Globalization;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PdM.Contracts.Training;
using PdM.Telemetry.Persistence;
using PdM.Testing;

namespace PdM.Telemetry.Tests;

[CollectionDefinition(Name)]
public sealed class TelemetrySuite : ICollectionFixture<TelemetryFixture>
{
    public const string Name = "telemetry";
}

/// <summary>One Telemetry host for the suite: a fresh PostgreSQL database, its own RabbitMQ vhost, a temporary model store.</summary>
public sealed class TelemetryFixture : IAsyncLifetime
{
    // One folder per test process for the C-MAPSS subsets, removed when the process exits (they are 80–360 KB each).
    private static readonly Lazy<string> SubsetFolder = new(() =>
    {
        var folder = Path.Combine(Path.GetTempPath(), "pdm-tests", $"cmapss-subsets-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return folder;
    });

    private ModuleTestHost? _host;

    public HttpClient Api { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    /// <summary>What another module would receive from the training runner over RabbitMQ.</summary>
    public BusMessages Events { get; } = new();

    public MetricRecorder Metrics { get; } = new(FeatureStoreTelemetry.MeterName);

    public string ModelStore { get; } = Path.Combine(Path.GetTempPath(), LocalDependencies.UniqueName("pdm_model_store"));

    public IServiceProvider Services => _host!.Services;

    public IBus Bus => _host!.Services.GetRequiredService<IBus>();

    public NpgsqlDataSource DataSource => _host!.Services.GetRequiredService<NpgsqlDataSource>();

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["FeatureStore:RetentionDays"] = "30",
            ["FeatureStore:MaintenanceInterval"] = "1.00:00:00",
            ["Training:ModelStorePath"] = ModelStore,
        };

        _host = await ModuleTestHost.StartAsync(TelemetryModule.Descriptor, await ModuleTestBackend.CreateAsync("telem"), settings, Logs,
            configure: builder => builder.Services.AddSingleton(Events),
            consumers: bus => bus.Collect<TrainingRunProgressed>().Collect<TrainingRunCompleted>());
        Api = _host.Api;
    }

    public async Task DisposeAsync()
    {
        await Logs.SaveIfAskedAsync();

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        Metrics.Dispose();
        if (Directory.Exists(ModelStore))
        {
            Directory.Delete(ModelStore, recursive: true);
        }
    }

    public async Task<long> ScalarAsync(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>The first <paramref name="units"/> engines of train_FD001 as a file of their own (its name is the dataset's source name).</summary>
    public static string CmapssSubset(int units, string tag)
    {
        var source = Path.Combine(LocalDependencies.RepositoryRoot, "datasets", "cmapss", "train_FD001.txt");
        var path = Path.Combine(SubsetFolder.Value, LocalDependencies.UniqueName("train_fd001_" + tag) + ".txt");
        var lines = File.ReadLines(source).Where(l => l.Trim().Length > 0
            && int.Parse(l.TrimStart().Split(' ', 2)[0], NumberStyles.Integer, CultureInfo.InvariantCulture) <= units);
        File.WriteAllLines(path, lines);
        return path;
    }
}
