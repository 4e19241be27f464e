// Micro-benchmarks of the gateway's merge path against a hand-written JsonNode aggregator.
//
// Run (from the repository root, Release; the short job keeps it to a few minutes):
//
//     dotnet run -c Release --project tests/Benchmarks/Micro -- --filter '*' --job short --artifacts tests/Benchmarks/Micro/BenchmarkDotNet.Artifacts
//
// BenchmarkDotNet builds and runs a generated project in a child process; where that cannot be built
// (e.g. offline without the packages it needs), add --inProcess to run in this process instead.
// --artifacts keeps the reports (git-ignored) next to this project instead of the current directory.
using BenchmarkDotNet.Running;

namespace Gateway.Benchmarks;

internal static class Program
{
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
