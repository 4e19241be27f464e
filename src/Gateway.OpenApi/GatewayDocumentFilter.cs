using Gateway.Aggregation;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using Yarp.ReverseProxy;

namespace Gateway.OpenApi;

/// <summary>
/// Adds what ASP.NET Core's API explorer cannot see: aggregates are plain request delegates and routes are
/// YARP's. Read at every generation from the live endpoints and YARP's state, so aggregates mapped in code
/// (<c>MapAggregate</c>) and routes YARP reloaded are there too.
/// </summary>
internal sealed class GatewayDocumentFilter(EndpointDataSource endpoints, IProxyStateLookup proxy, AggregationCatalog catalog) : IDocumentFilter
{
    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        var document = swaggerDoc;
        document.Paths ??= [];
        EnvelopeSchemas.AddShared(document);
        var operationIds = new HashSet<string>(StringComparer.Ordinal);
        var aggregates = endpoints.Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Endpoint: e, Definition: e.Metadata.GetMetadata<AggregateDefinition>()))
            .Where(e => e.Definition is not null)
            .OrderBy(e => e.Definition!.Name, StringComparer.Ordinal)
            .ToList();
        foreach (var (endpoint, definition) in aggregates)
        {
            var operation = AggregateOperation.Create(document, endpoint.RoutePattern, definition!, catalog.Options.Deadline.Header, PropagatedHeaders(definition!), out var path);
            Add(document, path, HttpMethod.Parse(definition!.Method), operation, operationIds);
        }

        var routes = proxy.GetRoutes().Select(r => r.Config).OrderBy(r => r.Order ?? 0).ThenBy(r => r.RouteId, StringComparer.Ordinal).ToList();
        foreach (var route in routes)
        {
            foreach (var (path, method, operation) in ProxyRouteOperations.Create(document, route))
            {
                Add(document, path, method, operation, operationIds);
            }
        }

        document.Tags ??= new HashSet<OpenApiTag>();
        if (aggregates.Count > 0)
        {
            document.Tags.Add(new OpenApiTag { Name = AggregateOperation.Tag, Description = "One call, several downstream sources merged into one envelope." });
        }

        if (routes.Count > 0)
        {
            document.Tags.Add(new OpenApiTag { Name = ProxyRouteOperations.Tag, Description = "Requests forwarded to one downstream as they are." });
        }
    }

    /// <summary>The client headers that reach the downstreams of <paramref name="definition"/>'s calls (cached datasets get none).</summary>
    private SortedSet<string> PropagatedHeaders(AggregateDefinition definition)
    {
        var headers = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var source in definition.Sources)
        {
            if (source.Kind != SourceKind.CachedData && catalog.Downstreams.TryGet(source.Cluster, out var downstream))
            {
                headers.UnionWith(downstream.PropagateHeaders);
            }
        }

        return headers;
    }

    private static void Add(OpenApiDocument document, string path, HttpMethod method, OpenApiOperation operation, HashSet<string> operationIds)
    {
        // Operation ids must be unique in the document; a route id may collide with an aggregate's name.
        var id = operation.OperationId!;
        for (var i = 2; !operationIds.Add(id); i++)
        {
            id = $"{operation.OperationId}_{i}";
        }

        operation.OperationId = id;
        if (!document.Paths.TryGetValue(path, out var existing) || existing is not OpenApiPathItem item)
        {
            item = new OpenApiPathItem();
            document.Paths[path] = item;
        }

        item.Operations ??= [];
        item.Operations.TryAdd(method, operation);
    }
}
