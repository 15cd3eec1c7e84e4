using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using PdM.ModelPackage;

namespace PdM.Cli.Packaging;

/// <summary>What the data scientist says a float output means when its name does not (<c>--output-kind</c>).</summary>
internal enum OutputKind
{
    Rul,
    RulHours,
    FailureProbability,
    Class,
}

/// <summary>
/// The manifest's <c>input</c> and <c>outputs</c> proposed from the model's own signature, as ONNX Runtime reads it:
/// one float input [batch, F] with F the spec's feature count; every int64 output is an informative label, every float
/// output a deciding one whose meaning comes from <c>--output-kind</c> or, failing that, from its name and width
/// (<c>rul…</c> → RUL in cycles, <c>…prob…</c> of width 1 → failure probability, width C > 1 → class probabilities).
/// </summary>
internal static class OnnxSignatureProposal
{
    public const string KindNames = "rul, rul-hours, failure-probability, class";

    public static OutputKind? ParseKind(string? text) => text switch
    {
        null => null,
        "rul" => OutputKind.Rul,
        "rul-hours" => OutputKind.RulHours,
        "failure-probability" => OutputKind.FailureProbability,
        "class" => OutputKind.Class,
        _ => throw new ArgumentOutOfRangeException(nameof(text), text, "unknown output kind"),
    };

    public static (ModelInputSpec? Input, IReadOnlyList<ModelOutputSpec>? Outputs, string? Problem) Propose(
        InferenceSession session, int featureCount, OutputKind? kind, IReadOnlyList<string>? classes, string? normalClass)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session.InputMetadata.Count != 1)
        {
            return Fail($"the model has {session.InputMetadata.Count} inputs ({string.Join(", ", session.InputMetadata.Keys)}); a PdM model takes one float tensor [batch, features]");
        }

        var (inputName, input) = session.InputMetadata.First();
        if (!input.IsTensor || input.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float || input.Dimensions.Length != 2)
        {
            return Fail($"input '{inputName}' is {input.ElementDataType} of rank {input.Dimensions.Length}; a PdM model takes float32 [batch, features]");
        }

        var width = input.Dimensions[1];
        if (width > 0 && width != featureCount)
        {
            return Fail($"input '{inputName}' takes {width} features per row; the feature spec has {featureCount}: the spec must list exactly the model's input columns, in order");
        }

        var outputs = new List<ModelOutputSpec>();
        foreach (var (name, meta) in session.OutputMetadata)
        {
            if (!meta.IsTensor)
            {
                return Fail($"output '{name}' is not a tensor (a ZipMap or sequence output); export the model without ZipMap (skl2onnx: options={{'zipmap': False}})");
            }

            if (meta.ElementDataType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64)
            {
                outputs.Add(new ModelOutputSpec { Name = name, Meaning = OutputMeaning.Label, ElementType = TensorElementKind.Int64 });
                continue;
            }

            if (meta.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float)
            {
                return Fail($"output '{name}' is {meta.ElementDataType}; PdM reads float32 scores and int64 labels");
            }

            var columns = meta.Dimensions.Length == 2 ? meta.Dimensions[1] : 1;
            var meaning = kind is { } k ? Meaning(k) : Infer(name, columns);
            if (meaning is null)
            {
                return Fail($"cannot tell what output '{name}' [{string.Join(", ", meta.Dimensions)}] means from its name and shape: pass --output-kind ({KindNames})");
            }

            var output = new ModelOutputSpec { Name = name, Meaning = meaning.Value };
            if (meaning == OutputMeaning.FailureModeClass)
            {
                if (classes is not { Count: >= 2 } || normalClass is null || !classes.Contains(normalClass, StringComparer.Ordinal))
                {
                    return Fail($"output '{name}' holds class probabilities: pass --classes (the class names in column order) and --normal-class (the one that means no failure)");
                }

                if (columns > 0 && columns != classes.Count)
                {
                    return Fail($"output '{name}' has {columns} probability columns; --classes names {classes.Count}");
                }

                output = output with { Classes = classes, NormalClass = normalClass };
            }
            else if (columns > 1)
            {
                return Fail($"output '{name}' has {columns} columns; a {meaning} output has one per row (is it --output-kind class?)");
            }

            outputs.Add(output);
        }

        if (outputs.All(o => o.Meaning == OutputMeaning.Label))
        {
            return Fail($"the model has no float output to decide with (outputs: {string.Join(", ", session.OutputMetadata.Keys)})");
        }

        return (new ModelInputSpec { Name = inputName, Shape = [-1, featureCount] }, outputs, null);
    }

    private static OutputMeaning Meaning(OutputKind kind) => kind switch
    {
        OutputKind.Rul => OutputMeaning.RulCycles,
        OutputKind.RulHours => OutputMeaning.RulHours,
        OutputKind.FailureProbability => OutputMeaning.FailureProbability,
        _ => OutputMeaning.FailureModeClass,
    };

    private static OutputMeaning? Infer(string name, long columns)
    {
        var n = name.ToLowerInvariant();
        if (columns == 1 && (n == "rul" || n.StartsWith("rul_", StringComparison.Ordinal) || n.Contains("remaining", StringComparison.Ordinal)))
        {
            return n.Contains("hour", StringComparison.Ordinal) ? OutputMeaning.RulHours : OutputMeaning.RulCycles;
        }

        if (n.Contains("prob", StringComparison.Ordinal))
        {
            return columns == 1 ? OutputMeaning.FailureProbability : columns > 1 ? OutputMeaning.FailureModeClass : null;
        }

        return null;
    }

    private static (ModelInputSpec?, IReadOnlyList<ModelOutputSpec>?, string?) Fail(FormattableString problem) =>
        (null, null, problem.ToString(CultureInfo.InvariantCulture));
}
