using Microsoft.Extensions.Hosting;
using PdM.Persistence.Replica;

// Usage: PdM.Persistence.Replica --Key=Value ... (ConnectionStrings:Postgres, Messaging:*, Outbox:*). Prints
// "holder <id>" once the dispatcher runs, then dispatches until stopped or killed.
// With --ExclusiveRun:Job=<name> it is instead one replica's round of that once-only job (ExclusiveRunProbe).
var settings = args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a.Contains('=', StringComparison.Ordinal))
    .Select(a => a[2..].Split('=', 2))
    .Select(kv => new KeyValuePair<string, string?>(kv[0], kv[1]))
    .ToList();
if (settings.FirstOrDefault(s => s.Key == ExclusiveRunProbe.JobSetting).Value is { } job)
{
    return await ExclusiveRunProbe.RunAsync(settings.First(s => s.Key == "ConnectionStrings:Postgres").Value!, job);
}

using var host = ReplicaHost.Build(settings);
await host.StartAsync();
Console.WriteLine("holder " + ReplicaHost.Holder(host));
await host.WaitForShutdownAsync();
return 0;
