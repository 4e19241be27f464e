using System.Text.RegularExpressions;
using Gateway.IntegrationTests.Deploy;

namespace Gateway.IntegrationTests.Docs;

/// <summary>
/// The README is a front page a newcomer reads in a few minutes (at most about 12 KB) with the two commands CI runs,
/// and every relative link in it and in docs/ leads to a file of the repository; the pages are written for users, with
/// no issue numbers.
/// </summary>
public sealed partial class DocumentationTests
{
    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string> { "README.md" };
        foreach (var page in Directory.GetFiles(Repository.PathOf("docs"), "*.md").Order(StringComparer.Ordinal))
        {
            pages.Add("docs/" + Path.GetFileName(page));
        }

        return pages;
    }

    [Fact]
    public void Readme_IsAFrontPageWithTheTwoCommands()
    {
        var readme = Repository.Read("README.md");

        Assert.True(readme.Length <= 12 * 1024, $"README.md is {readme.Length} bytes: move detail into docs/");
        var lines = readme.Split('\n');
        Assert.Contains("dotnet run --project src/Gateway", lines);
        Assert.Single(lines, l => l.StartsWith("dotnet test ", StringComparison.Ordinal));
        Assert.Contains("dotnet run --project src/Gateway.AppHost", lines);
    }

    // "Your own services": the README's configuration is one the gateway accepts, as a newcomer would run it.
    [Fact]
    public async Task Readme_MinimalConfiguration_PassesTheCheck()
    {
        var json = JsonBlock().Match(Repository.Read("README.md"));
        Assert.True(json.Success, "README.md has no ```json block");
        var path = Path.Combine(Path.GetTempPath(), $"readme-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, json.Groups["json"].Value);
        try
        {
            var run = await Infrastructure.GatewayProcess.RunToExitAsync(["--check", "--config", path]);

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("1 aggregate(s)", run.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("2 cluster(s)", run.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Page_EveryRelativeLinkResolvesAndNoIssueIsNamed(string page)
    {
        var text = Repository.Read(page);
        var folder = Path.GetDirectoryName(Repository.PathOf(page))!;
        foreach (Match link in RelativeLink().Matches(text))
        {
            var target = link.Groups["path"].Value;
            Assert.True(File.Exists(Path.Combine(folder, target)) || Directory.Exists(Path.Combine(folder, target)), $"{page}: link to '{target}' leads nowhere");
        }

        Assert.DoesNotMatch(IssueReference(), text);
    }

    // ](path) or ](path#anchor), not a URL and not a bare anchor.
    [GeneratedRegex(@"\]\((?!https?:|mailto:|#)(?<path>[^)#\s]+)(#[^)]*)?\)")]
    private static partial Regex RelativeLink();

    [GeneratedRegex(@"\bissue \d+\b", RegexOptions.IgnoreCase)]
    private static partial Regex IssueReference();

    [GeneratedRegex(@"```json\n(?<json>.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
