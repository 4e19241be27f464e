using System.Text;
using Gateway.Aggregation;

namespace Gateway.OpenApi;

/// <summary>
/// The Markdown description of an aggregate's operation: its deadline and one line per source, saying
/// whether it is required, its timeout and what it waits for. Cluster ids, addresses and downstream
/// paths are left out: the document is public, the topology behind the gateway is not.
/// </summary>
internal static class AggregateDescription
{
    public static string For(AggregateDefinition definition)
    {
        var text = new StringBuilder();
        text.Append("Calls ").Append(definition.Sources.Count).Append(definition.Sources.Count == 1 ? " source" : " sources")
            .Append(" at once (at most ").Append(definition.MaxParallel).Append(" in parallel) and merges their JSON into one envelope; ")
            .Append("the request's deadline is ").Append(OpenApiText.Duration(definition.Timeout)).Append('.');
        text.Append(definition.FailFast
            ? " Once a required source has failed the answer goes out at once and the calls still running are cancelled."
            : " Every source runs to its end even when a required one has failed.");
        text.Append("\n\nSources (`data.{source}` holds each one's JSON as it answered):\n\n");
        foreach (var source in definition.Sources)
        {
            text.Append("- `").Append(source.Name).Append("`: ").Append(source.Required ? "**required**" : "optional");
            switch (source.Kind)
            {
                case SourceKind.CachedData:
                    text.Append(", from a dataset the gateway keeps in memory (no wait)");
                    break;
                case SourceKind.CachedCall:
                    text.Append(", timeout ").Append(OpenApiText.Duration(source.Timeout));
                    if (source.Cache is { } cache)
                    {
                        text.Append(", answers cached for ").Append(OpenApiText.Duration(cache.Ttl));
                    }

                    break;
                default:
                    text.Append(", timeout ").Append(OpenApiText.Duration(source.Timeout));
                    break;
            }

            if (source.Inputs.Count > 0)
            {
                text.Append(", after ").AppendJoin(", ", source.Inputs.Select(i => $"`{definition.Sources[i].Name}`"))
                    .Append(source.Inputs.Count == 1 ? " (reads its fields)" : " (reads their fields)");
            }

            text.Append('\n');
        }

        text.Append("\nA required source that fails decides the status (504 > 502 > 503); an optional one is listed in `errors` ")
            .Append("and the answer stays 200 with `X-Aggregate-Complete: false`.");
        return text.ToString();
    }
}
