namespace PdM.Cli;

/// <summary>
/// Where <c>pdm token --save</c> keeps the access token between commands: <c>$PDM_CONFIG_DIR/token</c>, else
/// <c>~/.config/pdm/token</c>, readable by its owner only. <c>--token</c> and <c>PDM_TOKEN</c> take precedence.
/// </summary>
public sealed class TokenStore(string directory)
{
    public string Path { get; } = System.IO.Path.Combine(directory, "token");

    public static TokenStore Default(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var dir = environment("PDM_CONFIG_DIR");
        if (string.IsNullOrWhiteSpace(dir))
        {
            dir = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "pdm");
        }

        return new TokenStore(dir);
    }

    public string? Read() => File.Exists(Path) ? File.ReadAllText(Path).Trim() is { Length: > 0 } t ? t : null : null;

    public void Save(string token)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        File.WriteAllText(Path, token);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
