using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdM.Features;

/// <summary>
/// JSON reading and writing of <see cref="FeatureSpec"/> through plain transfer objects, so that enum names,
/// missing members and wrong kinds produce precise messages instead of serializer exceptions.
/// </summary>
internal static class FeatureSpecJson
{
    public static FeatureSpec Parse(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new FeatureSpecException("the feature spec JSON is empty");
        }

        FeatureSpecDto? dto;
        try
        {
            dto = JsonSerializer.Deserialize(json, FeatureSpecJsonContext.Default.FeatureSpecDto);
        }
        catch (JsonException ex)
        {
            var where = ex.Path is { Length: > 0 } path ? " at " + path : string.Empty;
            throw new FeatureSpecException("the feature spec is not valid JSON" + where + ": " + ex.Message, ex);
        }

        if (dto is null)
        {
            throw new FeatureSpecException("the feature spec JSON is null");
        }

        var errors = new List<string>();
        var spec = FromDto(dto, errors);
        if (spec is not null)
        {
            errors.AddRange(FeatureSpecValidator.Validate(spec));
        }

        if (errors.Count > 0)
        {
            throw new FeatureSpecException(errors);
        }

        return spec!;
    }

    public static string Write(FeatureSpec spec)
    {
        var features = new List<FeatureDefinitionDto?>(spec.Features.Count);
        foreach (var feature in spec.Features)
        {
            features.Add(new FeatureDefinitionDto
            {
                Name = feature.Name,
                Sensor = feature.Sensor,
                Function = FunctionName(feature.Function),
                Window = feature.Window is null ? null : ToDto(feature.Window),
                Alpha = feature.Alpha,
                Baseline = feature.Baseline,
            });
        }

        var dto = new FeatureSpecDto { SpecVersion = spec.SpecVersion, Window = ToDto(spec.Window), Features = features };
        return JsonSerializer.Serialize(dto, FeatureSpecJsonContext.Default.FeatureSpecDto);
    }

    /// <summary>Canonical camelCase name of a function, as written by <see cref="Write"/>.</summary>
    public static string FunctionName(FeatureFunction function)
    {
        var name = function.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }

    /// <summary>Case-, underscore- and hyphen-insensitive match: "peakToPeak", "peak_to_peak" and "PEAK-TO-PEAK" are one name.</summary>
    public static bool TryParseName<TEnum>(string? text, out TEnum value)
        where TEnum : struct, Enum
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var normalized = Normalize(text);
        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (string.Equals(Normalize(candidate.ToString()), normalized, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        return false;
    }

    private static string Normalize(string text) =>
        text.Trim().Replace("_", string.Empty, StringComparison.Ordinal)
            .Replace("-", string.Empty, StringComparison.Ordinal)
            .ToUpperInvariant();

    private static string KnownNames<TEnum>()
        where TEnum : struct, Enum
    {
        var names = new List<string>();
        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            var name = candidate.ToString();
            names.Add(char.ToLowerInvariant(name[0]) + name[1..]);
        }

        return string.Join(", ", names);
    }

    private static FeatureSpec? FromDto(FeatureSpecDto dto, List<string> errors)
    {
        var window = dto.Window is null ? null : FromDto(dto.Window, "window", errors);
        if (dto.Window is null)
        {
            errors.Add("window is missing (the default window is required)");
        }

        var features = new List<FeatureDefinition>();
        if (dto.Features is null)
        {
            errors.Add("features is missing");
        }
        else
        {
            for (var i = 0; i < dto.Features.Count; i++)
            {
                var at = string.Create(CultureInfo.InvariantCulture, $"features[{i}]");
                var f = dto.Features[i];
                if (f is null)
                {
                    errors.Add(at + " is null");
                    continue;
                }

                if (f.Name is not null)
                {
                    at += " ('" + f.Name + "')";
                }

                var ok = true;
                if (f.Name is null)
                {
                    errors.Add(at + ": name is missing");
                    ok = false;
                }

                if (f.Sensor is null)
                {
                    errors.Add(at + ": sensor is missing");
                    ok = false;
                }

                var function = default(FeatureFunction);
                if (f.Function is null)
                {
                    errors.Add(at + ": function is missing");
                    ok = false;
                }
                else if (!TryParseName(f.Function, out function))
                {
                    errors.Add(at + ": function '" + f.Function + "' is unknown; expected one of " + KnownNames<FeatureFunction>());
                    ok = false;
                }

                WindowSpec? own = null;
                if (f.Window is not null)
                {
                    own = FromDto(f.Window, at + ".window", errors);
                    ok &= own is not null;
                }

                if (ok)
                {
                    features.Add(new FeatureDefinition
                    {
                        Name = f.Name!,
                        Sensor = f.Sensor!,
                        Function = function,
                        Window = own,
                        Alpha = f.Alpha,
                        Baseline = f.Baseline,
                    });
                }
            }
        }

        if (window is null || errors.Count > 0)
        {
            return null;
        }

        return new FeatureSpec { SpecVersion = dto.SpecVersion ?? FeatureSpec.CurrentVersion, Window = window, Features = features };
    }

    private static WindowSpec? FromDto(WindowSpecDto dto, string at, List<string> errors)
    {
        if (dto.Kind is null)
        {
            errors.Add(at + ".kind is missing; expected one of " + KnownNames<WindowKind>());
            return null;
        }

        if (!TryParseName(dto.Kind, out WindowKind kind))
        {
            errors.Add(at + ".kind '" + dto.Kind + "' is unknown; expected one of " + KnownNames<WindowKind>());
            return null;
        }

        return new WindowSpec
        {
            Kind = kind,
            Size = dto.Size ?? 0,
            Hop = dto.Hop ?? 0,
            LengthMs = dto.LengthMs ?? 0,
            HopMs = dto.HopMs ?? 0,
            WatermarkMs = dto.WatermarkMs ?? 0,
        };
    }

    private static WindowSpecDto ToDto(WindowSpec window) => window.Kind == WindowKind.Count
        ? new WindowSpecDto { Kind = "count", Size = window.Size, Hop = window.Hop, WatermarkMs = window.WatermarkMs }
        : new WindowSpecDto { Kind = "time", LengthMs = window.LengthMs, HopMs = window.HopMs, WatermarkMs = window.WatermarkMs };
}

/// <summary>Validation rules shared by <see cref="FeatureSpec.Parse"/> and <see cref="FeatureSpec.Validate"/>.</summary>
internal static class FeatureSpecValidator
{
    public static List<string> Validate(FeatureSpec spec)
    {
        var errors = new List<string>();
        if (spec.SpecVersion != FeatureSpec.CurrentVersion)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"specVersion {spec.SpecVersion} is not supported; this library reads version {FeatureSpec.CurrentVersion}"));
        }

        if (spec.Window is null)
        {
            errors.Add("window is missing (the default window is required)");
        }
        else
        {
            ValidateWindow(spec.Window, "window", errors);
        }

        if (spec.Features is null || spec.Features.Count == 0)
        {
            errors.Add("features is empty; a spec needs at least one feature");
            return errors;
        }

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Features.Count; i++)
        {
            var f = spec.Features[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"features[{i}]");
            if (f is null)
            {
                errors.Add(at + " is null");
                continue;
            }

            at += " ('" + f.Name + "')";
            if (string.IsNullOrWhiteSpace(f.Name))
            {
                errors.Add(at + ": name is empty");
            }
            else if (names.TryGetValue(f.Name, out var first))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}: name '{f.Name}' is already used by features[{first}]"));
            }
            else
            {
                names.Add(f.Name, i);
            }

            if (string.IsNullOrWhiteSpace(f.Sensor))
            {
                errors.Add(at + ": sensor is empty");
            }

            if (!Enum.IsDefined(f.Function))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}: function {(int)f.Function} is unknown"));
            }

            ValidateParameters(f, at, errors);

            if (f.Window is not null)
            {
                ValidateWindow(f.Window, at + ".window", errors);
                ValidateOverride(f.Window, spec.Window, at + ".window", errors);
            }
        }

        return errors;
    }

    private static void ValidateParameters(FeatureDefinition f, string at, List<string> errors)
    {
        if (f.Function == FeatureFunction.Ewma)
        {
            if (f.Alpha is not { } alpha)
            {
                errors.Add(at + ": ewma needs alpha in (0, 1], but alpha is missing");
            }
            else if (!(alpha > 0 && alpha <= 1))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}: ewma needs alpha in (0, 1], got {alpha:R}"));
            }
        }
        else if (f.Alpha is not null)
        {
            errors.Add(at + ": alpha applies only to ewma, not to " + FeatureSpecJson.FunctionName(f.Function));
        }

        if (f.Baseline is { } baseline)
        {
            if (f.Function != FeatureFunction.DeltaFromBaseline)
            {
                errors.Add(at + ": baseline applies only to deltaFromBaseline, not to " + FeatureSpecJson.FunctionName(f.Function));
            }
            else if (!double.IsFinite(baseline))
            {
                errors.Add(at + ": baseline must be a finite number");
            }
        }
    }

    private static void ValidateWindow(WindowSpec w, string at, List<string> errors)
    {
        if (w.WatermarkMs < 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}.watermarkMs must be ≥ 0, got {w.WatermarkMs}"));
        }

        switch (w.Kind)
        {
            case WindowKind.Count:
                if (w.Size <= 0)
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}.size must be > 0 for a count window, got {w.Size}"));
                }
                else if (w.Hop < 0 || w.Hop > w.Size)
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{at}.hop must be in [0, size={w.Size}] (0 or size = tumbling), got {w.Hop}"));
                }

                if (w.LengthMs != 0 || w.HopMs != 0)
                {
                    errors.Add(at + ": lengthMs and hopMs belong to time windows; a count window uses size and hop");
                }

                break;
            case WindowKind.Time:
                if (w.LengthMs <= 0)
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}.lengthMs must be > 0 for a time window, got {w.LengthMs}"));
                }
                else if (w.HopMs < 0 || w.HopMs > w.LengthMs)
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{at}.hopMs must be in [0, lengthMs={w.LengthMs}] (0 or lengthMs = tumbling), got {w.HopMs}"));
                }

                if (w.Size != 0 || w.Hop != 0)
                {
                    errors.Add(at + ": size and hop belong to count windows; a time window uses lengthMs and hopMs");
                }

                break;
            default:
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}.kind {(int)w.Kind} is unknown"));
                break;
        }
    }

    private static void ValidateOverride(WindowSpec own, WindowSpec? main, string at, List<string> errors)
    {
        if (!own.IsTumbling)
        {
            errors.Add(at + ": a feature's own window is a look-back evaluated when the default window closes, "
                + "so its hop must be 0 (or equal to its length)");
        }

        if (main is not null && own.WatermarkMs != 0 && own.WatermarkMs != main.WatermarkMs)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{at}.watermarkMs must be 0 or equal to the default window's ({main.WatermarkMs}): lateness is decided once per asset"));
        }
    }
}

internal sealed class FeatureSpecDto
{
    public int? SpecVersion { get; set; }

    public WindowSpecDto? Window { get; set; }

    public List<FeatureDefinitionDto?>? Features { get; set; }
}

internal sealed class WindowSpecDto
{
    public string? Kind { get; set; }

    public int? Size { get; set; }

    public int? Hop { get; set; }

    public long? LengthMs { get; set; }

    public long? HopMs { get; set; }

    public long? WatermarkMs { get; set; }
}

internal sealed class FeatureDefinitionDto
{
    public string? Name { get; set; }

    public string? Sensor { get; set; }

    public string? Function { get; set; }

    public WindowSpecDto? Window { get; set; }

    public double? Alpha { get; set; }

    public double? Baseline { get; set; }
}

/// <summary>Source-generated: no reflection, trimming-safe, and strict about unknown members (a typo is an error, not a default).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(FeatureSpecDto))]
internal sealed partial class FeatureSpecJsonContext : JsonSerializerContext;
