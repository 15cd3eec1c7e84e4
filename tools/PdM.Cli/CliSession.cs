using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdM.Cli;

/// <summary>What every command needs: where the platform is, who the caller is, and how to print.</summary>
public sealed class CliSession(Uri server, string? token, bool json, TimeSpan timeout, TextWriter output, TextWriter error, TokenStore tokens)
{
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public Uri Server { get; } = server;

    public bool Json { get; } = json;

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public TokenStore Tokens { get; } = tokens;

    public PdmApi Api(bool authenticated = true) =>
        new(new HttpClient { BaseAddress = Server, Timeout = timeout }, authenticated ? token : null);

    /// <summary>Prints a failed answer (stderr; with --json also a JSON error on stdout) and returns its exit code.</summary>
    public int Fail(ApiResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Error.WriteLine("error: " + result.ErrorLine());
        if (Json)
        {
            WriteJson(new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["status"] = result.Status is { } s ? (int)s : null,
                    ["reason"] = ApiResult.Text(result.Body, "reason"),
                    ["detail"] = ApiResult.Text(result.Body, "detail") ?? result.TransportError,
                },
            });
        }

        return result.ExitCode;
    }

    public int Usage(string message)
    {
        Error.WriteLine("error: " + message);
        return ExitCodes.Usage;
    }

    public void WriteJson(JsonNode? node) => Output.WriteLine(node?.ToJsonString(Pretty) ?? "null");

    public void Line(FormattableString text) => Output.WriteLine(text.ToString(CultureInfo.InvariantCulture));

    /// <summary>Left-aligned columns, widths from the content: readable in a terminal, stable for grep.</summary>
    public void Table(IReadOnlyList<string> headers, IReadOnlyList<string[]> rows)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        var widths = new int[headers.Count];
        for (var c = 0; c < headers.Count; c++)
        {
            widths[c] = headers[c].Length;
            foreach (var row in rows)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }

        Output.WriteLine(Row(headers, widths));
        foreach (var row in rows)
        {
            Output.WriteLine(Row(row, widths));
        }
    }

    private static string Row(IReadOnlyList<string> cells, int[] widths)
    {
        var parts = new string[cells.Count];
        for (var c = 0; c < cells.Count; c++)
        {
            parts[c] = c == cells.Count - 1 ? cells[c] : cells[c].PadRight(widths[c]);
        }

        return string.Join("  ", parts).TrimEnd();
    }
}

/// <summary>Small readers over the API's JSON: a missing property reads as an empty string, never a crash.</summary>
internal static class JsonRead
{
    public static string Str(this JsonNode? node, string property) =>
        node is JsonObject o && o.TryGetPropertyValue(property, out var v) && v is not null
            ? v is JsonValue value && value.TryGetValue<string>(out var s) ? s : v.ToJsonString()
            : string.Empty;

    public static JsonArray Arr(this JsonNode? node, string property) =>
        node is JsonObject o && o.TryGetPropertyValue(property, out var v) && v is JsonArray a ? a : [];

    public static IEnumerable<JsonNode> Items(this JsonNode? node) =>
        node is JsonArray a ? a.Where(n => n is not null).Select(n => n!) : [];
}
