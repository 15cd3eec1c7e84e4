using System.Runtime.InteropServices;

namespace PdM.Infra.Tests;

/// <summary>
/// What a developer's (and CI's) disk notices: a build carries the native libraries of the machine it runs on and no
/// other platform's (Directory.Build.targets). Without that, ONNX Runtime alone put ~300 MB of android, ios, osx and
/// win libraries into every test project's output, 11 GB in all, and CI ran out of disk halfway through a build.
/// This test project's output stands for all of them: it carries ONNX Runtime and ML.NET through the host.
/// </summary>
public sealed class BuildOutputTests
{
    [Fact]
    public void A_build_output_carries_this_machines_native_libraries_and_no_other_platforms()
    {
        var runtimes = new DirectoryInfo(Path.Combine(AppContext.BaseDirectory, "runtimes"));
        Assert.True(runtimes.Exists, $"{runtimes.FullName} is missing: ONNX Runtime's native library would not load");

        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var host = $"{os}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
        string[] usable = os == "win" ? [host, os] : [host, os, "unix"];
        var present = runtimes.GetDirectories().Select(d => d.Name).Order(StringComparer.Ordinal).ToList();

        Assert.All(present, rid => Assert.Contains(rid, usable));
        var onnxRuntime = os switch { "win" => "onnxruntime.dll", "osx" => "libonnxruntime.dylib", _ => "libonnxruntime.so" };
        Assert.True(File.Exists(Path.Combine(runtimes.FullName, host, "native", onnxRuntime)), $"no {onnxRuntime} for {host} in {runtimes.FullName}");
    }
}
