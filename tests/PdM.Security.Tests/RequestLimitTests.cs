using System.Net;
using System.Text;
using PdM.Security;

namespace PdM.Security.Tests;

/// <summary>Bodies read whole into memory have a limit of their own, refused with 413 before the handler holds them.</summary>
[Collection(SecuritySuite.Name)]
public sealed class RequestLimitTests(SecurityFixture fixture)
{
    [Fact]
    public async Task A_feature_spec_upload_over_one_MiB_is_refused_with_413_and_a_normal_one_is_not()
    {
        var scientist = fixture.CreateClient("spec-flooder", PdMRoles.DataScientist);
        var oversized = "{\"name\":\"" + new string('x', 1024 * 1024) + "\"}";

        using var refused = await scientist.PutAsync("/api/feature-store/specs/flood", new StringContent(oversized, Encoding.UTF8, "application/json"));
        using var small = await scientist.PutAsync("/api/feature-store/specs/small", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        // A small body reaches the handler, which judges the spec itself (400 for this empty one), not the size.
        Assert.Equal(HttpStatusCode.BadRequest, small.StatusCode);
    }
}
