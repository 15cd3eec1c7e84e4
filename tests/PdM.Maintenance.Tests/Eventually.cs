namespace PdM.Maintenance.Tests;

internal static class Eventually
{
    /// <summary>
    /// Polls until <paramref name="probe"/> returns a value that satisfies the caller, or fails with what was last seen.
    /// The deadline bounds a hang; it does not measure performance.
    /// </summary>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, string what, double seconds = 30)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        T last;
        do
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"Timed out after {seconds:0} s waiting for {what}; last value: {last}");
    }
}
