using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PdM.Testing;

namespace PdM.Registry.Tests;

/// <summary>The committed packages under tests/models/generated, renamed and re-versioned so every test pushes its own model.</summary>
internal static class TestPackages
{
    public static string PackagePath(string package) => Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated", package);

    /// <summary>model.onnx and a manifest with the given name and version (everything else as generated).</summary>
    public static (byte[] Model, byte[] Manifest) Load(string package, string name, string version = "1.0.0")
    {
        var directory = PackagePath(package);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "manifest.json")))!.AsObject();
        manifest["name"] = name;
        manifest["version"] = version;
        return (File.ReadAllBytes(Path.Combine(directory, "model.onnx")), Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    public static MultipartFormDataContent Form(byte[] model, byte[] manifest)
    {
        var form = new MultipartFormDataContent();
        var modelPart = new ByteArrayContent(model);
        modelPart.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(modelPart, "model", "model.onnx");
        var manifestPart = new ByteArrayContent(manifest);
        manifestPart.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        form.Add(manifestPart, "manifest", "manifest.json");
        return form;
    }

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
}
