using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace PdM.Hosting;

public static class DelegateOptionsValidation
{
    /// <summary>
    /// Binds a section and validates it at start with the options type's own rule check (for types that carry their
    /// validation as a method returning every problem, rather than data annotations).
    /// </summary>
    public static OptionsBuilder<TOptions> AddOptionsValidatedBy<TOptions>(this IServiceCollection services, string section, Func<TOptions, IReadOnlyList<string>> validate)
        where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(new DelegateOptionsValidator<TOptions>(section, validate));
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }

    private sealed class DelegateOptionsValidator<TOptions>(string section, Func<TOptions, IReadOnlyList<string>> validate) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            var problems = validate(options);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems.Select(p => $"{section}: {p}"));
        }
    }
}
