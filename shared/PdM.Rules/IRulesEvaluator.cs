namespace PdM.Rules;

/// <summary>The rules fallback: answers for any asset, never throws for bad input.</summary>
public interface IRulesEvaluator
{
    RulesDecision Evaluate(RulesInput input);
}
