using System.Text.Json;

namespace Gateway.IntegrationTests.Deploy;

/// <summary>A Dockerfile read into its instructions (continuation lines joined, comments dropped), stage by stage.</summary>
public sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<Instruction> instructions) => Instructions = instructions;

    public IReadOnlyList<Instruction> Instructions { get; }

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<Instruction>();
        var stage = "";
        var pending = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (pending.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            var whole = (pending + line).Trim();
            pending = "";
            var space = whole.IndexOf(' ', StringComparison.Ordinal);
            var keyword = whole[..space].ToUpperInvariant();
            var arguments = whole[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                stage = parts.Length == 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : parts[0];
            }

            instructions.Add(new Instruction(stage, keyword, arguments));
        }

        return new Dockerfile(instructions);
    }

    public IEnumerable<Instruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    public Instruction Single(string keyword) => Assert.Single(All(keyword));

    /// <summary>The variables set by ENV (<c>ENV a=1 \ b=2</c>), of the last stage.</summary>
    public IReadOnlyDictionary<string, string> Environment()
    {
        var last = Instructions[^1].Stage;
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var env in All("ENV").Where(e => e.Stage == last))
        {
            foreach (var pair in env.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                Assert.True(equals > 0, $"ENV entry '{pair}' is not name=value");
                variables[pair[..equals]] = pair[(equals + 1)..];
            }
        }

        return variables;
    }

    /// <summary>The exec form (a JSON array) after <paramref name="prefix"/>, e.g. HEALTHCHECK's <c>CMD [...]</c>.</summary>
    public static string[] ExecForm(string arguments, string prefix = "")
    {
        var start = arguments.IndexOf(prefix + "[", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no exec form ({prefix}[...]) in: {arguments}");
        return JsonSerializer.Deserialize<string[]>(arguments[(start + prefix.Length)..])!;
    }

    public sealed record Instruction(string Stage, string Keyword, string Arguments)
    {
        /// <summary>COPY's sources and destination, its flags (<c>--from=build</c>) apart.</summary>
        public (string? From, string[] Sources, string Destination) CopyParts()
        {
            var words = Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var from = words.Where(w => w.StartsWith("--from=", StringComparison.Ordinal)).Select(w => w["--from=".Length..]).SingleOrDefault();
            var paths = words.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();
            return (from, paths[..^1], paths[^1]);
        }
    }
}
