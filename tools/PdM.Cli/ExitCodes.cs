namespace PdM.Cli;

/// <summary>
/// What a script can branch on. Stable: documented in the README and never renumbered.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The request was accepted but what it asked for did not happen (a deployment or training run failed).</summary>
    public const int Failed = 1;

    /// <summary>The command line itself is wrong (unknown option, missing argument, unreadable file).</summary>
    public const int Usage = 2;

    /// <summary>401 or 403: no token, an expired one, or a role that may not do this.</summary>
    public const int NotAllowed = 3;

    /// <summary>The server refused the input (400, 409, 422): the reason is printed.</summary>
    public const int Rejected = 4;

    public const int NotFound = 5;

    /// <summary>The server could not be reached, answered 5xx, or a wait timed out.</summary>
    public const int Unavailable = 6;
}
