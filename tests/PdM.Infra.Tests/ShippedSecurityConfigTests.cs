using System.Text.Json;
using System.Text.RegularExpressions;
using PdM.Testing;

namespace PdM.Infra.Tests;

/// <summary>
/// What the repository ships for a plant must not be open by default: the production Mosquitto configuration has no
/// listener that admits anonymous clients or skips the ACL, and no committed configuration carries a secret.
/// </summary>
public sealed partial class ShippedSecurityConfigTests
{
    [Fact]
    public void Every_listener_of_the_production_mosquitto_config_authenticates_and_applies_the_acl()
    {
        var lines = File.ReadAllLines(Path.Combine(LocalDependencies.RepositoryRoot, "infra", "mosquitto", "mosquitto.conf"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();
        Assert.Contains("per_listener_settings true", lines);

        var listeners = new List<List<string>>();
        foreach (var line in lines)
        {
            if (line.StartsWith("listener ", StringComparison.Ordinal))
            {
                listeners.Add([line]);
            }
            else if (listeners.Count > 0)
            {
                listeners[^1].Add(line);
            }
        }

        Assert.NotEmpty(listeners);
        foreach (var listener in listeners)
        {
            Assert.Contains("allow_anonymous false", listener);
            Assert.Contains(listener, line => line.StartsWith("password_file ", StringComparison.Ordinal));
            Assert.Contains(listener, line => line.StartsWith("acl_file ", StringComparison.Ordinal));
        }

        Assert.DoesNotContain(lines, line => line.StartsWith("allow_anonymous true", StringComparison.Ordinal));
    }

    [Fact]
    public void The_keycloak_realm_commits_no_client_secret_only_an_environment_placeholder()
    {
        using var realm = JsonDocument.Parse(File.ReadAllText(Path.Combine(LocalDependencies.RepositoryRoot, "infra", "keycloak", "pdm-realm.json")));
        var secrets = realm.RootElement.GetProperty("clients").EnumerateArray()
            .Where(client => client.TryGetProperty("secret", out _))
            .Select(client => (Client: client.GetProperty("clientId").GetString(), Secret: client.GetProperty("secret").GetString() ?? ""))
            .ToList();

        Assert.NotEmpty(secrets);
        foreach (var (client, secret) in secrets)
        {
            Assert.True(Placeholder().IsMatch(secret), $"client {client} commits a secret instead of a ${{ENV}} placeholder");
        }
    }

    [GeneratedRegex(@"^\$\{[A-Z][A-Z0-9_]*\}$")]
    private static partial Regex Placeholder();
}
