namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// A window whose decision threw (the model's or the rules' code, or turning the decision into events), as
/// <see cref="DecisionStage"/> reports it: <see cref="Window"/> is its index in the list the stage was given, so the
/// pipeline dead-letters the message that closed it; every other window of the batch is still decided.
/// </summary>
public readonly record struct PoisonedWindow(int Window, Exception Exception);
