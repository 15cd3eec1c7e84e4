using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using PdM.Edge.Journal;

namespace PdM.Edge.Gateway.Uplink;

/// <summary>
/// Journal entries the uplink can never send: their payload does not read as their type (a corrupt entry), or the bus
/// cannot serialize the message. Retrying them cures nothing, and each failed try held the whole uplink in its "down"
/// backoff (up to 15 s per batch) behind them. Such an entry is written to a file of its own in <c>dead-letter/</c> beside
/// the journal (its bytes as they were, the reason, its ids), counted in <c>pdm.uplink.dead_lettered</c> and logged;
/// only then is it removed from the journal. An operator can read it, fix it and append it again; nothing else waits.
/// </summary>
public sealed partial class UplinkDeadLetters(IOptions<JournalOptions> journal, GatewayTelemetry telemetry, ILogger<UplinkDeadLetters> logger)
{
    /// <summary>
    /// How long an entry waits in the journal when it could not be written aside (folder not writable, disk full) before
    /// the uplink tries again: a local storage fault, not the link's, so the uplink neither backs off nor reports itself
    /// down for it.
    /// </summary>
    public static readonly TimeSpan NotKeptRetry = TimeSpan.FromSeconds(10);

    /// <summary>The folder the entries are kept in: <c>dead-letter/</c> beside the journal's database file.</summary>
    public string Folder { get; } = Path.Combine(Path.GetDirectoryName(journal.Value.ResolvePath())!, "dead-letter");

    /// <summary>Whether <paramref name="failure"/> of a publish belongs to the entry itself, so no retry can succeed.</summary>
    public static bool IsPermanent(Exception failure) => failure is JsonException or SerializationException;

    /// <summary>
    /// Writes <paramref name="entry"/> and why it cannot be sent to its own file (flushed to disk), counts and logs it.
    /// False when the file could not be written (disk full, folder not writable): the entry must then stay in the journal.
    /// </summary>
    public async Task<bool> TryKeepAsync(JournalEntry entry, Exception failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(failure);
        try
        {
            await KeepAsync(entry, failure, cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            LogNotKept(logger, exception, entry.Id, entry.MessageType, Folder, NotKeptRetry.TotalSeconds);
            return false;
        }
    }

    private async Task KeepAsync(JournalEntry entry, Exception failure, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Folder);
        var reason = failure.InnerException is { } inner ? $"{failure.Message}: {inner.Message}" : failure.Message;
        var letter = new UplinkDeadLetter(entry.Id, entry.MessageId, entry.MessageType, entry.ContentType, entry.OriginalTime, entry.AppendedTime,
            failure.GetType().Name, reason, Convert.ToBase64String(entry.Payload.Span));

        // The message type comes from the journal: only its letters and digits name the file.
        var path = Path.Combine(Folder, $"{entry.Id}-{string.Concat(entry.MessageType.Where(char.IsAsciiLetterOrDigit))}.json");
        var partial = path + ".partial";
        await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            await JsonSerializer.SerializeAsync(file, letter, UplinkDeadLetterJsonContext.Default.UplinkDeadLetter, cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(partial, path, overwrite: true);
        telemetry.UplinkDeadLettered.Add(1, new KeyValuePair<string, object?>("message_type", entry.MessageType));
        LogDeadLettered(logger, entry.Id, entry.MessageType, entry.MessageId, reason, path);
    }

    [LoggerMessage(EventId = 1506, Level = LogLevel.Error,
        Message = "Uplink: journal entry {EntryId} ({MessageType}) can never be sent, and could not be written to {Folder}; it stays in the journal and is tried again in {RetrySeconds:0} s (the link is fine: other events go on)")]
    private static partial void LogNotKept(ILogger logger, Exception exception, long entryId, string messageType, string folder, double retrySeconds);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Error,
        Message = "Uplink: journal entry {EntryId} ({MessageType}, message id {MessageId}) can never be sent: {Reason}. Kept in {Path} and removed from the journal; the uplink goes on")]
    private static partial void LogDeadLettered(ILogger logger, long entryId, string messageType, Guid messageId, string reason, string path);
}

/// <summary>One entry the uplink could not send, as kept in <c>dead-letter/</c>; <see cref="Payload"/> is its journaled bytes in base64.</summary>
public sealed record UplinkDeadLetter(
    long EntryId,
    Guid MessageId,
    string MessageType,
    string ContentType,
    DateTimeOffset OriginalTime,
    DateTimeOffset AppendedTime,
    string Failure,
    string Reason,
    string Payload);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(UplinkDeadLetter))]
internal sealed partial class UplinkDeadLetterJsonContext : JsonSerializerContext;
