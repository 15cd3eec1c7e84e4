namespace PdM.Rules;

/// <summary>Why a ruleset file was rejected: the file, the rule when one is to blame, and the reason.</summary>
public sealed record RulesetProblem(string FilePath, string? RuleName, string Message)
{
    public override string ToString() =>
        RuleName is null ? $"{FilePath}: {Message}" : $"{FilePath}: rule '{RuleName}': {Message}";
}
