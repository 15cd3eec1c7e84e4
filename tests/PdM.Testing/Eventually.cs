namespace PdM.Testing;

public static class Eventually
{
    /// <summary>
    /// Polls until <paramref name="probe"/> returns a value that satisfies the caller, or fails with what was last seen.
    /// The deadline is generous: it bounds a hang, it does not measure performance.
    /// </summary>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last;
        do
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}; last value: {last}");
    }

    /// <inheritdoc cref="Until{T}(Func{Task{T}}, Func{T, bool}, TimeSpan, string)"/>
    public static Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, string what, double seconds = 30) =>
        Until(probe, done, TimeSpan.FromSeconds(seconds), what);
}
