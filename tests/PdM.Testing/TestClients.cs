using System.Net.Http.Headers;

namespace PdM.Testing;

/// <summary>
/// HTTP clients for one test host, each acting as a user through a token of the host's <see cref="TestTokenIssuer"/>;
/// disposed together with the host.
/// </summary>
public sealed class TestClients(Uri address, TestTokenIssuer tokens) : IDisposable
{
    private readonly List<HttpClient> _clients = [];

    /// <summary>A signed token for <paramref name="user"/> with <paramref name="roles"/>, valid for an hour.</summary>
    public string Token(string user, params string[] roles) => tokens.Issue(user, roles);

    /// <summary>A client whose every request carries a token for <paramref name="user"/> with <paramref name="roles"/>.</summary>
    public HttpClient Create(string user, params string[] roles) => CreateWithToken(Token(user, roles));

    /// <summary>A client sending <paramref name="accessToken"/> as its bearer token (null: no Authorization header).</summary>
    public HttpClient CreateWithToken(string? accessToken)
    {
        var client = WithBearer(address, accessToken);
        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>A client of <paramref name="address"/> sending <paramref name="accessToken"/> as its bearer token (null: no Authorization header); the caller disposes it.</summary>
    public static HttpClient WithBearer(Uri address, string? accessToken)
    {
        var client = new HttpClient { BaseAddress = address };
        if (accessToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return client;
    }

    public void Dispose()
    {
        lock (_clients)
        {
            _clients.ForEach(c => c.Dispose());
            _clients.Clear();
        }
    }
}
