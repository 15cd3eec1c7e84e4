using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace PdM.Hosting;

/// <summary>
/// Data-annotation validation that also walks nested option objects and lists, reporting full configuration paths
/// (<c>Gateway:Mqtt:Port</c>), because a setting is only useful to an operator when it says where it is wrong.
/// </summary>
internal sealed class RecursiveDataAnnotationsValidator<TOptions>(string section) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = new List<string>();
        ValidateObject(options, section, failures, depth: 0);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateObject(object instance, string path, List<string> failures, int depth)
    {
        if (depth > 8)
        {
            return;
        }

        var results = new List<ValidationResult>();
        Validator.TryValidateObject(instance, new ValidationContext(instance), results, validateAllProperties: true);
        foreach (var result in results)
        {
            var members = result.MemberNames.Any() ? string.Join(",", result.MemberNames) : "?";
            failures.Add($"{path}:{members}: {result.ErrorMessage}");
        }

        foreach (var property in instance.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || IsLeaf(property.PropertyType))
            {
                continue;
            }

            var value = property.GetValue(instance);
            if (value is null)
            {
                continue;
            }

            if (value is IDictionary dictionary)
            {
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (entry.Value is not null && !IsLeaf(entry.Value.GetType()))
                    {
                        ValidateObject(entry.Value, $"{path}:{property.Name}:{entry.Key}", failures, depth + 1);
                    }
                }
            }
            else if (value is IEnumerable enumerable)
            {
                var index = 0;
                foreach (var item in enumerable)
                {
                    if (item is not null && !IsLeaf(item.GetType()))
                    {
                        ValidateObject(item, $"{path}:{property.Name}:{index}", failures, depth + 1);
                    }

                    index++;
                }
            }
            else
            {
                ValidateObject(value, $"{path}:{property.Name}", failures, depth + 1);
            }
        }
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Uri) || type == typeof(Guid)
        || Nullable.GetUnderlyingType(type) is { } underlying && IsLeaf(underlying);
}
