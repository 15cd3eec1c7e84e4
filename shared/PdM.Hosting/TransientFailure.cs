namespace PdM.Hosting;

/// <summary>
/// Recognises a failure of one dependency that heals by itself (the dependency restarting, failing over, refusing
/// connections for a while). A message consumer that fails this way is retried on the long schedule
/// (<c>Messaging:TransientRetry</c>) and its message stays unacknowledged on the queue meanwhile, instead of going to the
/// <c>_error</c> queue after the few quick retries a real bug gets. The component that owns the dependency registers its
/// recogniser as a singleton (PdM.Persistence: PostgreSQL); the bus asks every one of them.
/// </summary>
public sealed class TransientFailure(string dependency, Func<Exception, bool> recognises)
{
    private readonly Func<Exception, bool> _recognises = recognises;

    /// <summary>The dependency, for logs (e.g. "postgres").</summary>
    public string Dependency { get; } = dependency;

    /// <summary>
    /// Whether <paramref name="exception"/>, or an exception it wraps (EF Core's DbUpdateException,
    /// RetryLimitExceededException or "likely due to a transient failure" InvalidOperationException, an
    /// AggregateException), is a transient failure of one of <paramref name="recognisers"/>' dependencies.
    /// </summary>
    public static bool IsAny(IReadOnlyList<TransientFailure> recognisers, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(recognisers);
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is AggregateException aggregate && aggregate.InnerExceptions.Count > 1)
            {
                return aggregate.InnerExceptions.Any(inner => IsAny(recognisers, inner));
            }

            foreach (var recogniser in recognisers)
            {
                if (recogniser._recognises(current))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
