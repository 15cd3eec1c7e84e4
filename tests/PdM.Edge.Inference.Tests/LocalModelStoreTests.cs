using PdM.Contracts.Decisions;

namespace PdM.Edge.Inference.Tests;

public sealed class LocalModelStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pdm-store-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_newest_version_in_the_store_is_deployed_and_the_one_before_kept_for_rollback()
    {
        var store = new LocalModelStore(_root);
        Assert.NotNull(store.Install(InferenceHarness.Model("logreg_failure")).Package);
        Assert.NotNull(store.Install(InferenceHarness.Model("logreg_failure_v2")).Package);
        await using var h = new InferenceHarness();

        Assert.Equal(1, h.Slots.LoadFromStore(store));

        var slot = h.Slots.Find(InferenceHarness.Milling)!;
        Assert.Equal("2.0.0", slot.Current!.Version);
        Assert.Equal("1.0.0", slot.Previous!.Version);
        Assert.True(File.Exists(Path.Combine(_root, InferenceHarness.Milling, "ai4i-failure-logreg@2.0.0.zip")));
    }

    [Fact]
    public async Task A_store_holding_only_a_corrupt_package_gives_load_failed_decisions()
    {
        var store = new LocalModelStore(_root);
        Assert.NotNull(store.Install(InferenceHarness.Model("broken_truncated")).Package);
        await using var h = new InferenceHarness();

        Assert.Equal(0, h.Slots.LoadFromStore(store));
        var decision = await h.Decide([300.0f, 310.0f, 1500.0f, 40.0f, 100.0f]);

        Assert.Equal(DecisionPath.Rules, decision.Provenance.Path);
        Assert.Equal("load_failed", decision.Provenance.FallbackReason);
    }

    [Fact]
    public void A_package_whose_names_would_leave_the_store_is_refused()
    {
        var dir = Path.Combine(_root, "incoming");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(InferenceHarness.Model("logreg_failure"), "model.onnx"), Path.Combine(dir, "model.onnx"));
        var manifest = File.ReadAllText(Path.Combine(InferenceHarness.Model("logreg_failure"), "manifest.json"))
            .Replace("\"milling-machine\"", "\"../../etc\"", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest);

        var (package, rejection) = new LocalModelStore(Path.Combine(_root, "store")).Install(dir);

        Assert.Null(package);
        Assert.Equal(ModelPackage.PackageRejectionReason.ManifestInvalid, rejection!.Reason);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
