using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdM.Cli;

/// <summary>
/// The PdM HTTP API as the CLI uses it: bearer token on every call, JSON in and out, and every failure (refused
/// connection, timeout, problem document) turned into an <see cref="ApiResult"/>.
/// </summary>
public sealed class PdmApi(HttpClient http, string? token) : IDisposable
{
    public Task<ApiResult> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);

    public Task<ApiResult> PostJsonAsync(string path, JsonNode body, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(body) }, cancellationToken);

    public Task<ApiResult> PostAsync(string path, HttpContent content, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, cancellationToken);

    public void Dispose() => http.Dispose();

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private async Task<ApiResult> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            if (!string.IsNullOrEmpty(token))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            try
            {
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                var raw = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                return new ApiResult(response.StatusCode, Parse(raw), raw, null);
            }
            catch (HttpRequestException ex)
            {
                return new ApiResult(null, null, null, $"cannot reach {http.BaseAddress}: {ex.Message} (is the platform running? --server or PDM_SERVER)");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new ApiResult(null, null, null, $"{http.BaseAddress} did not answer within {http.Timeout.TotalSeconds:0} s");
            }
        }
    }

    private static JsonNode? Parse(string raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(raw);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
