using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace PdM.Cmms.Stubs;

/// <summary>Small helpers shared by the stubs: raw JSON responses and bodies.</summary>
internal static class StubJson
{
    public static async Task WriteAsync(HttpContext context, int status, JsonNode? body)
    {
        context.Response.StatusCode = status;
        if (body is not null)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
        }
    }

    /// <summary>The request body as a JSON object, or null when it is missing or not an object.</summary>
    public static async Task<JsonObject?> ReadObjectAsync(HttpContext context)
    {
        try
        {
            var node = await JsonNode.ParseAsync(context.Request.Body);
            return node as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static string Tenant(HttpContext context) => context.Request.RouteValues["tenant"] as string ?? CmmsStubOptions.DefaultTenant;

    public static string Origin(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}";
}
