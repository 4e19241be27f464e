using Gateway.Aggregation;
using Gateway.Caching;
using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Management;

internal static class ManagementExtensions
{
    public const string CachePath = "/gateway/cache";

    public const string RefreshPath = "/gateway/cache/{name}/refresh";

    /// <summary>
    /// When <c>Gateway:Management:Enabled</c>: <c>GET /gateway/cache</c> lists the datasets,
    /// <c>POST /gateway/cache/{name}/refresh</c> queues a refresh (202). Every request needs the key in <c>X-Api-Key</c>.
    /// </summary>
    /// <summary>Reserves the management paths when <c>Gateway:Management:Enabled</c> is true: no aggregate may take them.</summary>
    public static IServiceCollection AddGatewayManagement(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IReservedEndpoints, Paths>());
        services.AddCachedDataCore();
        return services;
    }

    public static IEndpointRouteBuilder MapGatewayManagement(this IEndpointRouteBuilder endpoints)
    {
        var catalog = endpoints.ServiceProvider.GetRequiredService<AggregationCatalog>();
        var options = catalog.Options.Management;
        if (!options.Enabled || !endpoints.ServiceProvider.GetServices<IReservedEndpoints>().OfType<Paths>().Any())
        {
            return endpoints;
        }

        catalog.ThrowIfInvalid();
        var datasets = catalog.Datasets;
        var scheduler = endpoints.ServiceProvider.GetRequiredService<RefreshScheduler>();
        var time = endpoints.ServiceProvider.GetRequiredService<TimeProvider>();
        var shared = endpoints.ServiceProvider.GetService<DatasetSharing>() is not null;
        var management = endpoints.MapGroup("").AddEndpointFilter(new ApiKeyFilter(options.ApiKey!)).ExcludeFromDescription();

        management.MapGet(CachePath, () => Results.Json(new { datasets = datasets.All.Select(d => DatasetReport.From(d, time, shared)) }));

        management.MapPost(RefreshPath, (string name) =>
        {
            if (!datasets.TryGet(name, out var dataset))
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown dataset", detail: $"No cached dataset is named '{name}'.");
            }

            // A refresh already queued or running is as good as a new one: it ends with a fresh copy all the same.
            var queued = scheduler.RefreshNow(dataset);
            return Results.Json(
                new { name = dataset.Name, queued = queued == Enqueued.Queued, reason = Reason(queued) },
                statusCode: StatusCodes.Status202Accepted);
        });

        return endpoints;
    }

    private static string? Reason(Enqueued queued) => queued switch
    {
        Enqueued.AlreadyPending => "a refresh of this dataset is already queued or running",
        Enqueued.QueueFull => "the refresh queue is full; the dataset's schedule goes on",
        _ => null,
    };

    internal sealed class Paths : IReservedEndpoints
    {
        public IEnumerable<ReservedEndpoint> Reserve(GatewayOptions options) => options.Management.Enabled
            ? [new(CachePath, ["GET"], "Gateway:Management"), new(RefreshPath, ["POST"], "Gateway:Management")]
            : [];
    }
}
