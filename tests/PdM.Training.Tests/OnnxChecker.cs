using System.Diagnostics;

namespace PdM.Training.Tests;

/// <summary>
/// The official ONNX checker (Debian's python3-onnx, ONNX 1.12) run on a file. Debian's interpreter is called by its
/// full path because another python3 earlier on PATH may not see the package. A missing interpreter or package fails
/// the test (never a skip): `infra/local/deps.sh start` installs python3-onnx.
/// </summary>
internal static class OnnxChecker
{
    private const string Python = "/usr/bin/python3";

    public static (bool Ok, string Output) Check(string onnxFile)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: run infra/local/deps.sh start (installs python3-onnx)");
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok', onnx.__version__)");
        start.ArgumentList.Add(onnxFile);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "the ONNX checker did not finish within a minute");
        var output = stdout.Result + stderr.Result;
        Assert.False(output.Contains("No module named 'onnx'", StringComparison.Ordinal),
            "python3-onnx is not installed for /usr/bin/python3: run infra/local/deps.sh start");
        return (process.ExitCode == 0, output);
    }
}
