using System.Diagnostics.CodeAnalysis;

namespace PdM.Persistence;

/// <summary>
/// Text cut to the length of the <c>varchar(n)</c> column it is stored in: PostgreSQL refuses a longer value, and a
/// report, a reason or an error message is worth keeping even when a sender made it too long.
/// </summary>
public static class ColumnText
{
    [return: NotNullIfNotNull(nameof(text))]
    public static string? Clip(string? text, int maxLength) => text is null || text.Length <= maxLength ? text : text[..maxLength];
}
