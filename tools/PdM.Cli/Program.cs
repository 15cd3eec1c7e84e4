using PdM.Cli;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

return await PdmCli.RunAsync(args, CliEnvironment.Process(), cancel.Token).ConfigureAwait(false);
