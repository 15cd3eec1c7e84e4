namespace PdM.Edge.Journal.Operations;

/// <summary>Runs SQLite's <c>PRAGMA integrity_check</c> on the writer's connection.</summary>
internal sealed class IntegrityOperation : JournalOperation<string>
{
    private string _result = "";

    public override void Execute(JournalStore store) => _result = store.IntegrityCheck();

    public override void Complete(JournalTelemetry telemetry) => Completion.TrySetResult(_result);
}
