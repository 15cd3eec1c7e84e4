namespace PdM.ModelPackage;

/// <summary>Why a package was refused. <see cref="PackageRejectionReasons.ToCode"/> gives the stable string for logs and metrics.</summary>
public enum PackageRejectionReason
{
    /// <summary>Neither a directory nor a zip file exists at the path.</summary>
    NotFound,

    /// <summary>The zip archive or a file in it cannot be read.</summary>
    Unreadable,

    /// <summary>model.onnx or manifest.json is missing.</summary>
    MissingEntry,

    /// <summary>model.onnx or manifest.json is larger than the configured limit.</summary>
    TooLarge,

    /// <summary>manifest.json is not valid JSON, misses a member, or its content is inconsistent.</summary>
    ManifestInvalid,

    /// <summary>model.onnx is not a parseable ONNX ModelProto (e.g. truncated).</summary>
    ModelUnparseable,

    /// <summary>An opset import or node uses a domain other than ai.onnx ("") and ai.onnx.ml.</summary>
    DisallowedDomain,

    /// <summary>A tensor refers to external data (data_location = EXTERNAL or external_data entries).</summary>
    ExternalData,

    /// <summary>ONNX Runtime refused to create a session from the model.</summary>
    RuntimeLoadFailed,

    /// <summary>The model's input does not match the manifest (name, element type, rank, feature count).</summary>
    InputMismatch,

    /// <summary>A manifest output is missing from the model or has another element type or shape.</summary>
    OutputMismatch,

    /// <summary>Running the golden vectors failed.</summary>
    GoldenVectorRunFailed,

    /// <summary>A golden vector output is outside the tolerance (or not finite).</summary>
    GoldenVectorMismatch,

    /// <summary>The bytes are not what the registry approved: digest or signature check failed, or no record to check against.</summary>
    IntegrityViolation,
}

/// <summary>The reason with a human-readable detail saying exactly what was wrong.</summary>
public sealed record PackageRejection(PackageRejectionReason Reason, string Detail)
{
    public string Code => Reason.ToCode();

    public override string ToString() => Code + ": " + Detail;
}

public static class PackageRejectionReasons
{
    /// <summary>Stable snake_case code; never changes once published (dashboards and audit records use it).</summary>
    public static string ToCode(this PackageRejectionReason reason) => reason switch
    {
        PackageRejectionReason.NotFound => "not_found",
        PackageRejectionReason.Unreadable => "unreadable",
        PackageRejectionReason.MissingEntry => "missing_entry",
        PackageRejectionReason.TooLarge => "too_large",
        PackageRejectionReason.ManifestInvalid => "manifest_invalid",
        PackageRejectionReason.ModelUnparseable => "model_unparseable",
        PackageRejectionReason.DisallowedDomain => "disallowed_domain",
        PackageRejectionReason.ExternalData => "external_data",
        PackageRejectionReason.RuntimeLoadFailed => "runtime_load_failed",
        PackageRejectionReason.InputMismatch => "input_mismatch",
        PackageRejectionReason.OutputMismatch => "output_mismatch",
        PackageRejectionReason.GoldenVectorRunFailed => "golden_vector_run_failed",
        PackageRejectionReason.GoldenVectorMismatch => "golden_vector_mismatch",
        PackageRejectionReason.IntegrityViolation => "integrity_violation",
        _ => "unknown",
    };
}
