using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using PdM.Cmms.Stubs;
using PdM.Cmms.Stubs.Contracts;

namespace PdM.Maintenance.Tests;

/// <summary>
/// The stubs hold every request to the vendors' published definitions and answer in the vendor's own error shape and
/// status: raw requests that break one rule each (unknown property, not creatable, not updatable, too long, wrong type,
/// missing mandatory), and the contract files themselves carrying the facts the adapters depend on.
/// </summary>
[Collection(MaintenanceSuite.Name)]
public sealed class CmmsStubContractTests(MaintenanceFixture fixture)
{
    private static readonly JsonObject ValidNotification = new()
    {
        ["NotificationType"] = "M2",
        ["NotificationText"] = "PdM: VIB Bearing DE",
        ["TechnicalObject"] = "10000123",
        ["TechObjIsEquipOrFuncnlLoc"] = "EAMS_EQUI",
        ["MaintNotifExtReferenceNumber"] = "ABCDEFGHJK0123456789",
    };

    [Fact]
    public void The_contract_files_carry_the_vendors_facts_the_adapters_depend_on()
    {
        var notification = SapStub.Metadata.EntitySets[SapStub.EntitySet];
        Assert.Equal(20, notification.Properties["MaintNotifExtReferenceNumber"].MaxLength);
        Assert.True(notification.Properties["MaintNotifExtReferenceNumber"].UpperCase);
        Assert.Equal(40, notification.Properties["NotificationText"].MaxLength);
        Assert.False(notification.Properties["NotificationText"].Nullable);
        Assert.Equal(1333, notification.Properties["MaintNotifLongTextForEdit"].MaxLength);
        Assert.False(notification.Properties["NotificationType"].Updatable);
        Assert.False(notification.Properties["NotifProcessingPhase"].Creatable);
        Assert.Equal("MaintNotificationItemCauseType", SapStub.Metadata.EntitySets["MaintenanceNotificationItem"].Navigations["to_ItemCause"].TargetType);

        var workOrder = MaximoStub.Schemas[MaximoStub.WorkOrderStructure];
        Assert.Equal(["siteid", "wonum"], workOrder.PrimaryKey);
        Assert.Equal(100, workOrder.Attributes["description"].MaxLength);
        Assert.Equal(10, workOrder.Attributes["externalrefid"].MaxLength);
        Assert.Equal("&AUTOKEY&", workOrder.Attributes["wonum"].Default);
        var request = MaximoStub.Schemas[MaximoStub.ServiceRequestStructure];
        Assert.False(request.Attributes.ContainsKey("externalrefid"));
        Assert.Equal(10, request.Attributes["externalrecid"].MaxLength);
    }

    [Theory]
    [InlineData("unknown property", "ZZ_NotInTheService", "\"x\"", "/IWBEP/CM_MGW_RT/020", "has no such property")]
    [InlineData("not creatable", "NotifProcessingPhase", "\"4\"", "/IWBEP/CM_MGW_RT/023", "sap:creatable=false")]
    [InlineData("too long", "MaintNotifExtReferenceNumber", "\"pdm:sap-raw:PUMP-101:VIB:0123456789ab\"", "/IWBEP/CM_MGW_RT/022", "maximum length is 20")]
    [InlineData("wrong type", "MaintenanceObjectIsDown", "\"no\"", "/IWBEP/CM_MGW_RT/022", "expected Edm.Boolean")]
    [InlineData("wrong date format", "RequiredEndDate", "\"2026-12-05\"", "/IWBEP/CM_MGW_RT/022", "/Date(ms)/")]
    [InlineData("missing mandatory", "NotificationText", null, "/IWBEP/CM_MGW_RT/030", "NotificationText' is mandatory")]
    public async Task SAP_refuses_a_notification_that_breaks_the_metadata_with_an_OData_error(string rule, string property, string? json, string code, string message)
    {
        var body = (JsonObject)ValidNotification.DeepClone();
        body.Remove(property);
        if (json is not null)
        {
            body[property] = JsonNode.Parse(json);
        }

        var (status, error) = await SapWriteAsync("sap-raw", HttpMethod.Post, "MaintenanceNotification", body);

        Assert.True(status == HttpStatusCode.BadRequest, rule);
        Assert.Equal(code, (string?)error["error"]!["code"]);
        Assert.Equal("en", (string?)error["error"]!["message"]!["lang"]);
        Assert.Contains(message, (string?)error["error"]!["message"]!["value"], StringComparison.Ordinal);
        Assert.NotNull(error["error"]!["innererror"]!["transactionid"]);
    }

    [Fact]
    public async Task SAP_checks_deep_inserted_items_and_causes_and_updates_against_the_metadata()
    {
        var tooLongCause = (JsonObject)ValidNotification.DeepClone();
        tooLongCause["to_Item"] = JsonNode.Parse("""
            {"results":[{"MaintNotifDamageCodeGroup":"PM1","MaintNotificationDamageCode":"VIB",
              "to_ItemCause":{"results":[{"MaintNotifCauseCodeGroup":"PMCAUSE","MaintNotificationCauseCode":"WEAROUT"}]}}]}
            """);
        var (status, error) = await SapWriteAsync("sap-raw", HttpMethod.Post, "MaintenanceNotification", tooLongCause);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'MaintNotificationCauseCode' has 7 characters; its maximum length is 4", (string?)error["error"]!["message"]!["value"], StringComparison.Ordinal);

        var created = (JsonObject)ValidNotification.DeepClone();
        created["MaintNotifExtReferenceNumber"] = "lower0123456789abcde";
        var (createdStatus, entity) = await SapWriteAsync("sap-raw", HttpMethod.Post, "MaintenanceNotification", created);
        Assert.Equal(HttpStatusCode.Created, createdStatus);
        var number = (string)entity["d"]!["MaintenanceNotification"]!;

        // UpperCase display format: SAP stores the value upper-cased, so only that spelling finds it again.
        Assert.Equal("LOWER0123456789ABCDE", fixture.Stubs.Sap.Tenant("sap-raw").Notifications[number].Field("MaintNotifExtReferenceNumber"));

        var (typeStatus, typeError) = await SapWriteAsync("sap-raw", HttpMethod.Patch, $"MaintenanceNotification('{number}')", new JsonObject { ["NotificationType"] = "M1" });
        Assert.Equal(HttpStatusCode.BadRequest, typeStatus);
        Assert.Contains("'NotificationType'", (string?)typeError["error"]!["message"]!["value"], StringComparison.Ordinal);
        var (itemStatus, _) = await SapWriteAsync("sap-raw", HttpMethod.Patch, $"MaintenanceNotification('{number}')", new JsonObject { ["to_Item"] = new JsonObject() });
        Assert.Equal(HttpStatusCode.BadRequest, itemStatus);
        var (okStatus, _) = await SapWriteAsync("sap-raw", HttpMethod.Patch, $"MaintenanceNotification('{number}')", new JsonObject { ["MaintPriority"] = "1" });
        Assert.Equal(HttpStatusCode.NoContent, okStatus);
    }

    [Theory]
    [InlineData("mxapiwodetail", "unknown attribute", "externalrecid", "\"ABCDEFGHJK\"", "BMXAA8726E")]
    [InlineData("mxapisr", "unknown attribute", "externalrefid", "\"ABCDEFGHJK\"", "BMXAA8726E")]
    [InlineData("mxapiwodetail", "too long", "externalrefid", "\"pdm:mx-raw:PUMP-101:VIB:0123456789ab\"", "BMXAA4049E")]
    [InlineData("mxapisr", "too long", "description", null, "BMXAA4049E")]
    [InlineData("mxapiwodetail", "wrong type", "wopriority", "\"2\"", "BMXAA4120E")]
    [InlineData("mxapiwodetail", "wrong date format", "targcompdate", "\"05.12.2026\"", "BMXAA4144E")]
    [InlineData("mxapiwodetail", "read-only", "workorderid", "42", "BMXAA4013E")]
    [InlineData("mxapisr", "missing required", "siteid", "null", "BMXAA4195E")]
    public async Task Maximo_refuses_a_record_that_breaks_the_schema_with_a_BMXAA_error(string os, string rule, string attribute, string? json, string reasonCode)
    {
        var body = new JsonObject { ["siteid"] = "BEDFORD", ["description"] = "PdM: VIB Bearing DE" };
        body[attribute] = json is null ? new string('x', 101) : JsonNode.Parse(json);
        if (json == "null")
        {
            body.Remove(attribute);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"{fixture.Stubs.MaximoUrl("mx-raw")}/api/os/{os}?lean=1")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("apikey", MaintenanceFixture.MaximoKey);
        using var http = new HttpClient();
        using var response = await http.SendAsync(request);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["Error"]!;

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, rule);
        Assert.Equal(reasonCode, (string?)error["reasonCode"]);
        Assert.StartsWith($"{reasonCode} - ", (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal("400", (string?)error["statusCode"]);
        Assert.Equal(attribute, (string?)error["errorattrname"]);
    }

    /// <summary>A write with Basic auth, sap-client and a freshly fetched CSRF token + session cookie, as SAP requires.</summary>
    private async Task<(HttpStatusCode Status, JsonNode Body)> SapWriteAsync(string tenant, HttpMethod method, string resource, JsonObject body)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() });
        var root = fixture.Stubs.SapUrl(tenant).AbsoluteUri;
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"PDM_RFC:{MaintenanceFixture.SapPassword}")));
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"{root}/?sap-client=100");
        fetch.Headers.Authorization = basic;
        fetch.Headers.Add("X-CSRF-Token", "Fetch");
        using var fetched = await http.SendAsync(fetch);
        using var write = new HttpRequestMessage(method, $"{root}/{resource}?sap-client=100")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        write.Headers.Authorization = basic;
        write.Headers.Add("X-CSRF-Token", fetched.Headers.GetValues("X-CSRF-Token").Single());
        write.Headers.IfMatch.Add(EntityTagHeaderValue.Any);
        using var response = await http.SendAsync(write);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!);
    }
}
