using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>A finished download (<see cref="Sha256"/> of the whole file), or why there is none.</summary>
public sealed record DownloadResult(string? Path, string? Sha256, string? FailureDetail, int Attempts, int ResumedAttempts)
{
    public bool Succeeded => Path is not null;
}

/// <summary>
/// Fetches a package zip from the registry's artifact endpoint into a temporary file: bearer token per download,
/// each attempt bounded, a broken transfer resumed with an HTTP range request (<c>If-Range</c> on the ETag, so a
/// changed artifact starts over), bounded attempts with exponential backoff. Refusals by the server (401, 403, 404)
/// are not retried. Never throws for a bad server or link; returns the reason.
/// </summary>
public sealed partial class ArtifactDownloader(
    IHttpClientFactory httpClients,
    IRegistryAccessTokenSource tokens,
    IOptions<DeploymentOptions> options,
    TimeProvider time,
    ILogger<ArtifactDownloader> logger)
{
    public const string HttpClientName = "pdm-registry-artifacts";

    public async Task<DownloadResult> DownloadAsync(Uri url, string partPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        var settings = options.Value;
        var http = httpClients.CreateClient(HttpClientName);
        var delay = TimeSpan.FromSeconds(settings.RetryInitialDelaySeconds);
        var transfer = new Transfer();
        string? lastError = null;
        for (var attempt = 1; attempt <= settings.MaxDownloadAttempts; attempt++)
        {
            try
            {
                var (outcome, detail) = await AttemptAsync(http, url, partPath, transfer, settings, cancellationToken).ConfigureAwait(false);
                if (outcome == AttemptOutcome.Done)
                {
                    var sha = await HashAsync(partPath, cancellationToken).ConfigureAwait(false);
                    return new DownloadResult(partPath, sha, null, attempt, transfer.Resumed);
                }

                if (outcome == AttemptOutcome.Refused)
                {
                    return new DownloadResult(null, null, detail, attempt, transfer.Resumed);
                }

                lastError = detail;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException or OperationCanceledException)
            {
                lastError = ex.GetType().Name + ": " + ex.Message;
            }

            if (attempt < settings.MaxDownloadAttempts)
            {
                var have = File.Exists(partPath) ? new FileInfo(partPath).Length : 0;
                LogRetry(logger, url, attempt, have, delay.TotalSeconds, lastError ?? string.Empty);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(settings.RetryMaxDelaySeconds).Ticks));
            }
        }

        return new DownloadResult(null, null, string.Create(CultureInfo.InvariantCulture, $"gave up after {settings.MaxDownloadAttempts} attempts: {lastError}"), settings.MaxDownloadAttempts, transfer.Resumed);
    }

    private async Task<(AttemptOutcome Outcome, string? Detail)> AttemptAsync(
        HttpClient http, Uri url, string partPath, Transfer transfer, DeploymentOptions settings, CancellationToken cancellationToken)
    {
        var have = File.Exists(partPath) ? new FileInfo(partPath).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (await tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false) is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (have > 0)
        {
            request.Headers.Range = new RangeHeaderValue(have, null);
            // Without an ETag (a part file left by a gateway that restarted) the range is still safe: artifacts are
            // content-addressed, and the SHA-256 check catches anything else.
            if (transfer.ETag is not null)
            {
                request.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue(transfer.ETag));
            }
        }

        using var attemptTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.AttemptTimeoutSeconds), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attemptTimeout.Token);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
        transfer.ETag = response.Headers.ETag?.Tag ?? transfer.ETag;
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return (AttemptOutcome.Refused, string.Create(CultureInfo.InvariantCulture, $"the registry answered {(int)response.StatusCode} {response.ReasonPhrase} for {url}"));
        }

        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // Our partial file is not a prefix of what the server has now: start over.
            File.Delete(partPath);
            return (AttemptOutcome.Retry, "the registry refused the resume range (416); starting over");
        }

        if (!response.IsSuccessStatusCode)
        {
            return (AttemptOutcome.Retry, string.Create(CultureInfo.InvariantCulture, $"the registry answered {(int)response.StatusCode} {response.ReasonPhrase}"));
        }

        // 206 continues our file only if it starts where we stopped; a 200 (or a changed ETag under If-Range) is the whole artifact.
        var resume = response.StatusCode == HttpStatusCode.PartialContent;
        if (resume && response.Content.Headers.ContentRange?.From != have)
        {
            File.Delete(partPath);
            transfer.ETag = null;
            return (AttemptOutcome.Retry, "the registry sent a range that does not continue the partial download; starting over");
        }

        transfer.Resumed += resume ? 1 : 0;
        var offset = resume ? have : 0;
        var expected = response.Content.Headers.ContentLength is { } length ? offset + length : (long?)null;
        if (expected > settings.MaxArtifactBytes)
        {
            return (AttemptOutcome.Refused, string.Create(CultureInfo.InvariantCulture, $"the artifact is {expected} bytes; the limit is {settings.MaxArtifactBytes} (Gateway:Deployment:MaxArtifactBytes)"));
        }

        Directory.CreateDirectory(Path.GetDirectoryName(partPath)!);
        await using (var file = new FileStream(partPath, resume ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true))
        {
            await using var body = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            var buffer = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(buffer, linked.Token).ConfigureAwait(false)) > 0)
            {
                await file.WriteAsync(buffer.AsMemory(0, read), linked.Token).ConfigureAwait(false);
                if (file.Length > settings.MaxArtifactBytes)
                {
                    return (AttemptOutcome.Refused, string.Create(CultureInfo.InvariantCulture, $"the artifact exceeds {settings.MaxArtifactBytes} bytes (Gateway:Deployment:MaxArtifactBytes)"));
                }
            }

            await file.FlushAsync(linked.Token).ConfigureAwait(false);
            if (expected is { } total && file.Length != total)
            {
                return (AttemptOutcome.Retry, string.Create(CultureInfo.InvariantCulture, $"the transfer ended at {file.Length} of {total} bytes"));
            }
        }

        return (AttemptOutcome.Done, null);
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
    }

    private enum AttemptOutcome
    {
        Done,
        Retry,
        Refused,
    }

    /// <summary>What one download carries from attempt to attempt; the ETag is kept even when an attempt dies mid-body.</summary>
    private sealed class Transfer
    {
        public string? ETag { get; set; }

        public int Resumed { get; set; }
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "Download of {Url} failed (attempt {Attempt}, {Bytes} bytes so far), retrying in {DelaySeconds:0.0} s: {Reason}")]
    private static partial void LogRetry(ILogger logger, Uri url, int attempt, long bytes, double delaySeconds, string reason);
}
