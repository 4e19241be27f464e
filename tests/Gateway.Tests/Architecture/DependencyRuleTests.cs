using System.Reflection;
using NetArchTest.Rules;

namespace Gateway.Tests.Architecture;

/// <summary>
/// The dependency rule, read from the compiled code (NetArchTest reads every type's IL, method bodies and
/// compiler-generated types included): the folders of the gateway (one namespace each) depend on each other one way
/// only, the model and the configuration on none, and no folder on the host that composes them.
/// </summary>
public sealed class DependencyRuleTests
{
    private static readonly Assembly Host = typeof(global::Gateway.GatewayHost).Assembly;

    /// <summary>The engine's libraries, which an app references without the host.</summary>
    private static readonly Assembly[] Libraries =
    [
        typeof(global::Gateway.Aggregation.AggregateBuilder).Assembly,
        typeof(global::Gateway.OpenApi.OpenApiPath).Assembly,
        typeof(global::Gateway.Caching.Redis.RedisConnection).Assembly,
    ];

    private static readonly Assembly[] All = [Host, .. Libraries];

    /// <summary>
    /// The rule, top to bottom: a folder depends only on folders of the layers below its own. The host's features first
    /// (its demo, its diagnostics), then what serves a request from the outside in; the model and configuration last.
    /// </summary>
    private static readonly string[][] Layers =
    [
        ["Demo", "Diagnostics", "Management", "OpenApi", "Proxy"],
        ["Aggregation"],
        ["Caching", "Limits", "Shutdown"],
        ["Health"],
        ["Downstream"],
        ["Telemetry", "Logging"],
        ["Model", "Configuration"],
    ];

    // Gateway.{Folder}, sub-namespaces (Caching.Redis) counted with their folder; the root namespace is the host.
    private static readonly string[] Folders = [.. All.SelectMany(a => a.GetTypes())
        .Select(t => t.Namespace)
        .OfType<string>()
        .Where(n => n.StartsWith("Gateway.", StringComparison.Ordinal))
        .Select(n => n.Split('.')[1])
        .Distinct()
        .Order(StringComparer.Ordinal)];

    private static readonly Lazy<Dictionary<string, Dictionary<string, string[]>>> Graph = new(() =>
    {
        var graph = new Dictionary<string, Dictionary<string, string[]>>();
        foreach (var from in Folders)
        {
            graph[from] = [];
            foreach (var to in Folders.Where(f => f != from))
            {
                var result = Types.InAssemblies(All).That().ResideInNamespace($"Gateway.{from}")
                    .ShouldNot().HaveDependencyOn($"Gateway.{to}").GetResult();
                if (!result.IsSuccessful)
                {
                    graph[from][to] = [.. result.FailingTypeNames ?? []];
                }
            }
        }

        return graph;
    });

    [Fact]
    public void Folders_FoundInTheAssembly_AreTheOnesTheRuleKnows()
    {
        // A sanity check of the reading itself: a rule over no folders would pass whatever the code did.
        Assert.Contains("Aggregation", Folders);
        Assert.Contains("Model", Folders);
        Assert.True(Folders.Length >= 10, string.Join(", ", Folders));
        Assert.NotEmpty(Graph.Value["Aggregation"]);
    }

    [Fact]
    public void Folders_DependOnEachOther_WithoutACycle()
    {
        var graph = Graph.Value;
        var cycles = Cycles(graph).ToList();

        Assert.True(cycles.Count == 0, "folders in a cycle: " + string.Join("; ", cycles.Select(c =>
            string.Join(" -> ", c) + " (" + string.Join(", ", c.Zip(c.Skip(1).Append(c[0])).Select(e => $"{e.First}->{e.Second}: {graph[e.First][e.Second][0]}")) + ")")));
    }

    [Theory]
    [InlineData("Model")]
    [InlineData("Configuration")]
    public void Folder_AtTheBottom_DependsOnNoOtherFolder(string folder)
    {
        var edges = Graph.Value[folder];
        Assert.True(edges.Count == 0, $"{folder} depends on " + string.Join(", ", edges.Select(e => $"{e.Key} ({e.Value[0]})")));
    }

    [Fact]
    public void Telemetry_DependsOnlyOnTheModelAndTheConfiguration()
    {
        Assert.Subset(new HashSet<string> { "Model", "Configuration" }, Graph.Value["Telemetry"].Keys.ToHashSet());
    }

    [Fact]
    public void Folders_NeverDependOnTheHost()
    {
        var result = Types.InAssemblies(All).That().ResideInNamespaceStartingWith("Gateway.")
            .ShouldNot().HaveDependencyOn("Gateway.GatewayHost").GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void Libraries_NeverReferenceTheHost_AndTheEngineNoneOfTheOthers()
    {
        var host = Host.GetName().Name;
        foreach (var library in Libraries)
        {
            Assert.DoesNotContain(host, library.GetReferencedAssemblies().Select(r => r.Name));
        }

        // The engine is the root of the libraries: the OpenAPI and Redis packages build on it, never the other way.
        var engineReferences = Libraries[0].GetReferencedAssemblies().Select(r => r.Name).ToList();
        Assert.All(Libraries.Skip(1), package => Assert.DoesNotContain(package.GetName().Name, engineReferences));
        Assert.DoesNotContain("StackExchange.Redis", engineReferences);
    }

    [Fact]
    public void Folders_DependOnlyOnTheLayersBelowTheirOwn()
    {
        var layerOf = Layers.SelectMany((folders, layer) => folders.Select(f => (f, layer))).ToDictionary(x => x.f, x => x.layer);
        Assert.True(Folders.All(layerOf.ContainsKey), "folders the rule does not place: " + string.Join(", ", Folders.Where(f => !layerOf.ContainsKey(f))));
        var upward = Graph.Value.SelectMany(from => from.Value.Keys.Where(to => layerOf[to] <= layerOf[from.Key]).Select(to => $"{from.Key} -> {to} ({from.Value[to][0]})")).ToList();
        Assert.True(upward.Count == 0, "against the rule: " + string.Join("; ", upward));
    }

    // Tarjan's strongly connected components; each component of more than one folder is a cycle, given in one order.
    private static IEnumerable<string[]> Cycles(Dictionary<string, Dictionary<string, string[]>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var components = new List<string[]>();
        var next = 0;

        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            foreach (var w in graph[v].Keys)
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (stack.Contains(w))
                {
                    low[v] = Math.Min(low[v], index[w]);
                }
            }

            if (low[v] == index[v])
            {
                var component = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    component.Add(w);
                }
                while (w != v);
                components.Add([.. component]);
            }
        }

        foreach (var v in graph.Keys.Where(v => !index.ContainsKey(v)))
        {
            Visit(v);
        }

        return components.Where(c => c.Length > 1).Select(c => OneCycle(graph, c));
    }

    // A closed walk through the component, for the message: from its first folder along edges inside it.
    private static string[] OneCycle(Dictionary<string, Dictionary<string, string[]>> graph, string[] component)
    {
        var inside = component.ToHashSet();
        var path = new List<string> { component[0] };
        var current = component[0];
        while (true)
        {
            var step = graph[current].Keys.Where(inside.Contains).First();
            var seen = path.IndexOf(step);
            if (seen >= 0)
            {
                return [.. path.Skip(seen)];
            }

            path.Add(step);
            current = step;
        }
    }
}
