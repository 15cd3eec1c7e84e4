using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace PdM.Hosting;

public static class OptionsExtensions
{
    /// <summary>
    /// Binds a configuration section, validates it with data annotations (recursively into nested option objects)
    /// and fails the host at start, naming the bad key, instead of at the first request.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(this IServiceCollection services, string section)
        where TOptions : class
    {
        var builder = services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>>(new RecursiveDataAnnotationsValidator<TOptions>(section));
        return builder;
    }
}
