using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PdM.Testing;

/// <summary>Keeps every formatted log line of a host so a test can assert what an operator would read.</summary>
public sealed class LogCapture(bool timestamped = false) : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Whether one line holds all of <paramref name="parts"/>.</summary>
    public bool Contains(params string[] parts) => _lines.Any(line => parts.All(p => line.Contains(p, StringComparison.Ordinal)));

    /// <summary>Writes every line to the file named by <c>PDM_TEST_LOG_FILE</c>, when it is set: a suite's host log to read after a run.</summary>
    public async Task SaveIfAskedAsync()
    {
        if (Environment.GetEnvironmentVariable("PDM_TEST_LOG_FILE") is { Length: > 0 } logFile)
        {
            await File.WriteAllLinesAsync(logFile, _lines);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines, timestamped);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines, bool timestamped) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                // The exception's type and message too: most formatters leave it out, and it is what a reader needs.
                var line = $"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}";
                lines.Enqueue(timestamped ? $"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}" : line);
            }
        }
    }
}
