namespace PdM.EndToEnd.Tests;

/// <summary>Maintenance's site configuration on PdM.Host's command line, as in the INTEGRATIONS.md §5 example.</summary>
internal static class MaintenanceSiteArguments
{
    /// <summary>
    /// A pump of <paramref name="site"/> in Maintenance's asset registry: criticality B, centrifugal pump (PU) with its
    /// drive-end bearing, and the Maximo asset it is (BEDFORD, asset number 1143 and the pump's last digit).
    /// </summary>
    public static IEnumerable<string> MaximoPump(string site, string asset)
    {
        var a = $"--Maintenance:Sites:{site}:Assets:{asset}";
        yield return $"{a}:Criticality=B";
        yield return $"{a}:EquipmentClass=PU";
        yield return $"{a}:Subunit=Power transmission";
        yield return $"{a}:MaintainableItem=Bearing DE";
        yield return $"{a}:Maximo:SiteId=BEDFORD";
        yield return $"{a}:Maximo:AssetNum=1143{asset[^1]}";
        yield return $"{a}:Maximo:Location=BPM3100";
        yield return $"{a}:Maximo:FailureClass=PUMPS";
    }
}
