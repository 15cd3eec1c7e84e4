using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using PdM.ModelPackage;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// Stands for the registry's artifact endpoint (<c>GET /api/artifacts/{id}</c>) inside the test: serves package zips
/// with an ETag and HTTP range support like the registry does, records every request (range, bearer token), and can
/// drop the connection half-way through the first transfer of an artifact.
/// </summary>
public sealed class ArtifactServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, byte[]> _artifacts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _dropFirst = new(StringComparer.Ordinal);
    private readonly WebApplication _app;

    private ArtifactServer(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Id, string? Range, string? Authorization, int Status)> Requests { get; } = new();

    public string BaseUrl { get; private set; } = string.Empty;

    public static async Task<ArtifactServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ArtifactServer(app);
        app.MapGet("/api/artifacts/{id}", server.Serve);
        await app.StartAsync();
        server.BaseUrl = ListeningAddress.Of(app);
        return server;
    }

    /// <summary>Serves <paramref name="zip"/> and returns its URL.</summary>
    public string Add(byte[] zip, bool dropFirstTransfer = false)
    {
        var id = Guid.NewGuid().ToString("N");
        _artifacts[id] = zip;
        if (dropFirstTransfer)
        {
            _dropFirst[id] = 1;
        }

        return BaseUrl + "/api/artifacts/" + id;
    }

    public IReadOnlyList<(string Id, string? Range, string? Authorization, int Status)> RequestsFor(string url)
    {
        var id = url[(url.LastIndexOf('/') + 1)..];
        return Requests.Where(r => r.Id == id).ToList();
    }

    private async Task Serve(HttpContext context, string id)
    {
        var range = context.Request.Headers.Range.ToString();
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!_artifacts.TryGetValue(id, out var zip))
        {
            Requests.Enqueue((id, range, authorization, 404));
            context.Response.StatusCode = 404;
            return;
        }

        if (_dropFirst.TryRemove(id, out _))
        {
            // Promise the whole artifact, send half, then cut the connection: a link that dies mid-transfer.
            Requests.Enqueue((id, range, authorization, -1));
            context.Response.StatusCode = 200;
            context.Response.ContentLength = zip.Length;
            context.Response.Headers.ETag = "\"" + Sha256(zip) + "\"";
            await context.Response.Body.WriteAsync(zip.AsMemory(0, zip.Length / 2));
            await context.Response.Body.FlushAsync();
            await Task.Delay(300);
            context.Abort();
            return;
        }

        Requests.Enqueue((id, range, authorization, string.IsNullOrEmpty(range) ? 200 : 206));
        await Results.Bytes(zip, "application/zip", enableRangeProcessing: true, entityTag: new EntityTagHeaderValue("\"" + Sha256(zip) + "\"")).ExecuteAsync(context);
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A committed test package (tests/models/generated) re-labelled for one test, as zip bytes with its digests.</summary>
public sealed record TestPackage(byte[] Model, byte[] Manifest, byte[] Zip, string Digest, string Name, string Version, string AssetClass)
{
    public string ArtifactSha256 => ArtifactServer.Sha256(Zip);

    public static TestPackage Create(string folder, string assetClass, string version)
    {
        var directory = Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated", folder);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "manifest.json")))!.AsObject();
        manifest["assetClass"] = assetClass;
        manifest["version"] = version;
        var manifestBytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var model = File.ReadAllBytes(Path.Combine(directory, "model.onnx"));
        return new TestPackage(model, manifestBytes, Pack(model, manifestBytes), PackageDigest.Compute(model, manifestBytes), manifest["name"]!.GetValue<string>(), version, assetClass);
    }

    /// <summary>The same layout the registry zips (ModelPackageFiles.WriteZip): model.onnx and manifest.json at the root.</summary>
    public static byte[] Pack(byte[] model, byte[] manifest)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pdm-tests", "pkg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllBytes(Path.Combine(folder, ModelPackageFiles.ModelFileName), model);
            File.WriteAllBytes(Path.Combine(folder, ModelPackageFiles.ManifestFileName), manifest);
            var zip = Path.Combine(folder, "package.zip");
            ModelPackageFiles.WriteZip(folder, zip);
            return File.ReadAllBytes(zip);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
