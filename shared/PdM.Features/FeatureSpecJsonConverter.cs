using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdM.Features;

/// <summary>
/// Lets a <see cref="FeatureSpec"/> sit inside other JSON documents (the model manifest) in its canonical form,
/// validated on read, whatever serializer options or source-generated context the outer document uses.
/// </summary>
public sealed class FeatureSpecJsonConverter : JsonConverter<FeatureSpec>
{
    /// <inheritdoc />
    public override FeatureSpec? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        using var document = JsonDocument.ParseValue(ref reader);
        return FeatureSpec.Parse(document.RootElement.GetRawText());
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, FeatureSpec value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteRawValue(value.ToJson(), skipInputValidation: true);
    }
}
