using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PdM.ModelPackage;

/// <summary>
/// The package digest: SHA-256, lower-case hex, over
/// <c>"pdm-model-package/1\n" + "model.onnx " + len + "\n" + model bytes + "manifest.json " + len + "\n" + canonical manifest</c>,
/// lengths in decimal ASCII. The canonical manifest is the manifest JSON re-written with no insignificant
/// whitespace, object members sorted by ordinal name, strings escaped minimally (only <c>"</c>, <c>\</c> and
/// control characters) and numbers kept exactly as written. So re-indenting, re-ordering members or zipping
/// differently does not change the digest; any change of content or of a number's text does.
/// </summary>
public static class PackageDigest
{
    private static readonly JsonWriterOptions CanonicalWriter = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Compute(ReadOnlySpan<byte> model, ReadOnlySpan<byte> manifestJson)
    {
        var canonical = CanonicalManifest(manifestJson);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData("pdm-model-package/1\n"u8);
        sha.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"model.onnx {model.Length}\n")));
        sha.AppendData(model);
        sha.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"manifest.json {canonical.Length}\n")));
        sha.AppendData(canonical);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>The canonical manifest bytes (see the type's summary). Throws <see cref="JsonException"/> for invalid JSON.</summary>
    public static byte[] CanonicalManifest(ReadOnlySpan<byte> manifestJson)
    {
        var reader = new Utf8JsonReader(manifestJson, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        using var document = JsonDocument.ParseValue(ref reader);
        using var output = new MemoryStream();
        using (var writer = new Utf8JsonWriter(output, CanonicalWriter))
        {
            Write(document.RootElement, writer);
        }

        return output.ToArray();
    }

    private static void Write(JsonElement element, Utf8JsonWriter writer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<JsonProperty>();
                foreach (var member in element.EnumerateObject())
                {
                    members.Add(member);
                }

                members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                writer.WriteStartObject();
                foreach (var member in members)
                {
                    writer.WritePropertyName(member.Name);
                    Write(member.Value, writer);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(item, writer);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
