using System.Globalization;
using System.Security;
using System.Text;

namespace PdM.ModelPackage.Cards;

/// <summary>
/// A small SVG writer for the model card's figures: scatter, lines and bars on linear axes with ticks, a title and
/// axis labels. Standalone SVG 1.1 (no script, no external font or style), so the same text works as a file, inline in
/// the registry's HTML card, and in any browser. Every plot carries <c>data-plot</c> (its name) and
/// <c>data-points</c> (how many values it draws), and each mark a <c>title</c> with its numbers.
/// </summary>
public static class SvgPlot
{
    private const double Width = 480, Height = 320, Left = 60, Right = 20, Top = 36, Bottom = 48;
    private const double PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

    /// <summary>Points, with the y = x diagonal when <paramref name="diagonal"/> (predicted vs actual).</summary>
    public static string Scatter(string name, string title, string xLabel, string yLabel, IReadOnlyList<(double X, double Y, string Tip)> points, bool diagonal)
    {
        ArgumentNullException.ThrowIfNull(points);
        var max = Math.Max(1, points.Count == 0 ? 1 : points.Max(p => Math.Max(p.X, p.Y)));
        var min = Math.Min(0, points.Count == 0 ? 0 : points.Min(p => Math.Min(p.X, p.Y)));
        var x = new Axis(min, max);
        var y = diagonal ? x : new Axis(Math.Min(0, points.Count == 0 ? 0 : points.Min(p => p.Y)), Math.Max(1, points.Count == 0 ? 1 : points.Max(p => p.Y)));
        var svg = Begin(name, title, points.Count);
        Axes(svg, x, y, xLabel, yLabel, Number);
        if (diagonal)
        {
            svg.Append(C, $"<line x1=\"{X(x, x.Min):F1}\" y1=\"{Y(y, y.Min):F1}\" x2=\"{X(x, x.Max):F1}\" y2=\"{Y(y, y.Max):F1}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>");
        }

        foreach (var (px, py, tip) in points)
        {
            svg.Append(C, $"<circle class=\"mark\" cx=\"{X(x, px):F1}\" cy=\"{Y(y, py):F1}\" r=\"2.5\" fill=\"{Palette[0]}\" fill-opacity=\"0.6\"><title>{Escape(tip)}</title></circle>");
        }

        return End(svg);
    }

    /// <summary>
    /// One line per series over a shared x axis (a precision–recall curve, agreement over time), and single labelled
    /// points (<paramref name="marked"/>) drawn over them (the rules' operating point on the model's curve): each a square with
    /// <c>data-point</c> (its label) and a legend entry.
    /// </summary>
    public static string Lines(
        string name, string title, string xLabel, string yLabel, IReadOnlyList<(string Series, IReadOnlyList<(double X, double Y)> Points)> series,
        double? yMin = null, double? yMax = null, Func<double, string>? xTick = null, IReadOnlyList<(string Label, double X, double Y)>? marked = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        marked ??= [];
        var all = series.SelectMany(s => s.Points).Concat(marked.Select(p => (p.X, p.Y))).ToList();
        var x = new Axis(all.Count == 0 ? 0 : all.Min(p => p.X), all.Count == 0 ? 1 : all.Max(p => p.X));
        var y = new Axis(yMin ?? (all.Count == 0 ? 0 : all.Min(p => p.Y)), yMax ?? (all.Count == 0 ? 1 : all.Max(p => p.Y)));
        var svg = Begin(name, title, all.Count);
        Axes(svg, x, y, xLabel, yLabel, xTick ?? Number);
        for (var s = 0; s < series.Count; s++)
        {
            var colour = Palette[s % Palette.Length];
            var points = series[s].Points;
            svg.Append(C, $"<polyline class=\"mark\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"");
            svg.AppendJoin(' ', points.Select(p => string.Create(C, $"{X(x, p.X):F1},{Y(y, p.Y):F1}")));
            svg.Append(C, $"\"><title>{Escape(series[s].Series)}</title></polyline>");
            foreach (var (px, py) in points.Count <= 60 ? points : [])
            {
                svg.Append(C, $"<circle cx=\"{X(x, px):F1}\" cy=\"{Y(y, py):F1}\" r=\"2\" fill=\"{colour}\"><title>{Escape(series[s].Series)}: {Escape((xTick ?? Number)(px))}, {Number(py)}</title></circle>");
            }

            if (series.Count + marked.Count > 1)
            {
                svg.Append(C, $"<rect x=\"{Left + 10:F1}\" y=\"{Top + 8 + (s * 16):F1}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{Left + 26:F1}\" y=\"{Top + 17 + (s * 16):F1}\">{Escape(series[s].Series)}</text>");
            }
        }

        for (var p = 0; p < marked.Count; p++)
        {
            var colour = Palette[(series.Count + p) % Palette.Length];
            var (label, px, py) = marked[p];
            svg.Append(C, $"<rect class=\"point\" data-point=\"{Escape(label)}\" x=\"{X(x, px) - 5:F1}\" y=\"{Y(y, py) - 5:F1}\" width=\"10\" height=\"10\" fill=\"{colour}\" stroke=\"#222\"><title>{Escape(label)}: {Escape((xTick ?? Number)(px))}, {Number(py)}</title></rect>");
            var row = series.Count + p;
            svg.Append(C, $"<rect x=\"{Left + 10:F1}\" y=\"{Top + 8 + (row * 16):F1}\" width=\"10\" height=\"10\" fill=\"{colour}\" stroke=\"#222\"/><text x=\"{Left + 26:F1}\" y=\"{Top + 17 + (row * 16):F1}\">{Escape(label)}</text>");
        }

        return End(svg);
    }

    /// <summary>Vertical bars, one per category, from zero (signed values go below the axis).</summary>
    public static string Bars(string name, string title, string xLabel, string yLabel, IReadOnlyList<(string Label, double Value, string Tip)> bars)
    {
        ArgumentNullException.ThrowIfNull(bars);
        var y = new Axis(Math.Min(0, bars.Count == 0 ? 0 : bars.Min(b => b.Value)), Math.Max(0, bars.Count == 0 ? 1 : bars.Max(b => b.Value)));
        var svg = Begin(name, title, bars.Count);
        Axes(svg, null, y, xLabel, yLabel, Number);
        var slot = PlotWidth / Math.Max(1, bars.Count);
        for (var i = 0; i < bars.Count; i++)
        {
            var (label, value, tip) = bars[i];
            var top = Y(y, Math.Max(0, value));
            var height = Math.Abs(Y(y, 0) - Y(y, value));
            var left = Left + (i * slot) + (slot * 0.15);
            svg.Append(C, $"<rect class=\"mark\" x=\"{left:F1}\" y=\"{top:F1}\" width=\"{slot * 0.7:F1}\" height=\"{Math.Max(0.5, height):F1}\" fill=\"{Palette[0]}\"><title>{Escape(tip)}</title></rect>");
            var labelX = left + (slot * 0.35);
            var labelY = Height - Bottom + 14;
            if (bars.Count > 8)
            {
                svg.Append(C, $"<text x=\"{labelX:F1}\" y=\"{labelY:F1}\" text-anchor=\"end\" transform=\"rotate(-35 {labelX:F1} {labelY:F1})\" font-size=\"9\">{Escape(label)}</text>");
            }
            else
            {
                svg.Append(C, $"<text x=\"{labelX:F1}\" y=\"{labelY:F1}\" text-anchor=\"middle\">{Escape(label)}</text>");
            }
        }

        return End(svg);
    }

    /// <summary>A number as a tick or tooltip shows it: at most four significant digits, invariant culture.</summary>
    public static string Number(double value) => Math.Abs(value) >= 1000 || value == Math.Round(value)
        ? value.ToString("0", C)
        : value.ToString("0.###", C);

    private static StringBuilder Begin(string name, string title, int points)
    {
        var svg = new StringBuilder();
        svg.Append(C, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"{Escape(title)}\" data-plot=\"{Escape(name)}\" data-points=\"{points}\">");
        svg.Append(C, $"<title>{Escape(title)}</title><rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        svg.Append(C, $"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{Escape(title)}</text>");
        return svg;
    }

    private static string End(StringBuilder svg) => svg.Append("</svg>").ToString();

    private static void Axes(StringBuilder svg, Axis? x, Axis y, string xLabel, string yLabel, Func<double, string> xTick)
    {
        svg.Append(C, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\" fill=\"none\" stroke=\"#444\"/>");
        foreach (var t in y.Ticks())
        {
            svg.Append(C, $"<line x1=\"{Left - 4}\" y1=\"{Y(y, t):F1}\" x2=\"{Left + PlotWidth}\" y2=\"{Y(y, t):F1}\" stroke=\"#ddd\"/><text x=\"{Left - 6}\" y=\"{Y(y, t) + 4:F1}\" text-anchor=\"end\">{Escape(Number(t))}</text>");
        }

        if (x is not null)
        {
            foreach (var t in x.Ticks())
            {
                svg.Append(C, $"<line x1=\"{X(x, t):F1}\" y1=\"{Top + PlotHeight}\" x2=\"{X(x, t):F1}\" y2=\"{Top + PlotHeight + 4}\" stroke=\"#444\"/><text x=\"{X(x, t):F1}\" y=\"{Top + PlotHeight + 16}\" text-anchor=\"middle\">{Escape(xTick(t))}</text>");
            }
        }

        svg.Append(C, $"<text x=\"{Left + (PlotWidth / 2)}\" y=\"{Height - 6}\" text-anchor=\"middle\">{Escape(xLabel)}</text>");
        svg.Append(C, $"<text x=\"14\" y=\"{Top + (PlotHeight / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {Top + (PlotHeight / 2)})\">{Escape(yLabel)}</text>");
    }

    private static double X(Axis axis, double value) => Left + ((value - axis.Min) / (axis.Max - axis.Min) * PlotWidth);

    private static double Y(Axis axis, double value) => Top + PlotHeight - ((value - axis.Min) / (axis.Max - axis.Min) * PlotHeight);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;

    /// <summary>A linear axis widened to round ticks (1, 2 or 5 × a power of ten, about five of them).</summary>
    private sealed class Axis
    {
        public Axis(double min, double max)
        {
            if (!(max > min))
            {
                max = min + 1;
            }

            var raw = (max - min) / 5;
            var power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            var ratio = raw / power;
            Step = ratio switch
            {
                < 1.5 => power,
                < 3.5 => 2 * power,
                < 7.5 => 5 * power,
                _ => 10 * power,
            };
            Min = Math.Floor(min / Step) * Step;
            Max = Math.Ceiling(max / Step) * Step;
        }

        public double Min { get; }

        public double Max { get; }

        public double Step { get; }

        public IEnumerable<double> Ticks()
        {
            for (var t = Min; t <= Max + (Step / 2); t += Step)
            {
                yield return Math.Round(t, 10);
            }
        }
    }
}
