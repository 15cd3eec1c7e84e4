using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace PdM.Persistence;

/// <summary>
/// The one naming convention of every module schema: snake_case columns, so hand-written SQL, COPY and psql sessions
/// need no quoting. Tables are named explicitly by each module.
/// </summary>
public static class SnakeCaseNaming
{
    /// <summary>Names every mapped column in snake_case, except those <paramref name="keep"/> selects (e.g. PostgreSQL's xmin).</summary>
    public static ModelBuilder UseSnakeCaseColumns(this ModelBuilder modelBuilder, Func<IMutableProperty, bool>? keep = null)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                if (keep is null || !keep(property))
                {
                    property.SetColumnName(ToSnakeCase(property.Name));
                }
            }
        }

        return modelBuilder;
    }

    /// <summary><c>LastPredictionId</c> → <c>last_prediction_id</c>, <c>Sha256Hex</c> → <c>sha256_hex</c>, <c>HTTPCode</c> → <c>http_code</c>.</summary>
    public static string ToSnakeCase(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
                {
                    builder.Append('_');
                }

                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
