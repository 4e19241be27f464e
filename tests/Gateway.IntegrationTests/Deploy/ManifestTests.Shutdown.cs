using System.Globalization;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Shutdown;

namespace Gateway.IntegrationTests.Deploy;

public sealed partial class ManifestTests
{
    /// <summary>
    /// The kubelet's SIGKILL comes <c>terminationGracePeriodSeconds</c> after the pod is deleted; before it go the
    /// <c>preStop</c> sleep, the drain of <c>gateway.json</c> (<c>Gateway:Shutdown:DrainTimeout</c>) and the host's margin
    /// after it, so that the requests the drain cuts still get their <c>cancelled</c> answer.
    /// </summary>
    [Fact]
    public void Deployment_GracePeriod_CoversThePreStopSleepTheDrainAndTheHostsMargin()
    {
        var pod = Manifest("Deployment", "gateway")["spec"]!["template"]!["spec"]!;
        var container = Assert.Single(pod["containers"]!.AsArray())!;
        var grace = TimeSpan.FromSeconds(int.Parse(pod["terminationGracePeriodSeconds"].Text("terminationGracePeriodSeconds"), CultureInfo.InvariantCulture));
        var preStop = TimeSpan.FromSeconds(int.Parse(container["lifecycle"]!["preStop"]!["sleep"]!["seconds"].Text("preStop sleep"), CultureInfo.InvariantCulture));
        var configured = JsonNode.Parse(Repository.Read($"{K8s}/gateway.json"))!["Gateway"]?["Shutdown"]?["DrainTimeout"]?.GetValue<string>();
        // The file may leave the default; a value of its own is written as whole seconds ("20s").
        var drain = configured is null ? new ShutdownOptions().DrainTimeout : TimeSpan.FromSeconds(int.Parse(configured.TrimEnd('s'), CultureInfo.InvariantCulture));

        Assert.True(grace >= preStop + drain + ShutdownExtensions.HostMargin,
            $"terminationGracePeriodSeconds {grace.TotalSeconds} s < preStop {preStop.TotalSeconds} s + DrainTimeout {drain.TotalSeconds} s + {ShutdownExtensions.HostMargin.TotalSeconds} s");
    }
}
