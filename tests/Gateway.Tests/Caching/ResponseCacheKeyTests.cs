using Gateway.Caching;
using Microsoft.Extensions.Primitives;

namespace Gateway.Tests.Caching;

/// <summary>The response cache's key: one key per distinct request as the cache sees it, never one for two.</summary>
public sealed class ResponseCacheKeyTests
{
    private static readonly ResponseCachePolicy TwoHeaders = new(TimeSpan.FromMinutes(1), TimeSpan.Zero, TimeSpan.Zero, ["X-A", "X-B"], cacheAuthorized: false);

    private static string Key(ResponseCachePolicy policy, string path, params (string Name, string Value)[] headers) =>
        ResponseCacheKey.Create("users", path, policy, [.. headers.Select(h => KeyValuePair.Create(h.Name, new StringValues(h.Value)))], default, out _);

    [Fact]
    public void Create_ValueHoldingTheSeparatorAndTheNextHeadersName_DoesNotPassForTwoValues()
    {
        // Written plainly ("\nx-a:" + a + "\nx-b:" + b) both would read "\nx-a:1\nx-b:2\nx-b:3": the length before
        // each value keeps them apart, whatever a value holds.
        var one = Key(TwoHeaders, "/u/1", ("X-A", "1\nx-b:2"), ("X-B", "3"));
        var other = Key(TwoHeaders, "/u/1", ("X-A", "1"), ("X-B", "2\nx-b:3"));

        Assert.NotEqual(one, other);
    }

    [Fact]
    public void Create_SameRequestTwice_SameKeyAndOnlyTheVaryByHeadersAreSent()
    {
        var first = ResponseCacheKey.Create("users", "/u/1", TwoHeaders, [KeyValuePair.Create("x-b", new StringValues("2")), KeyValuePair.Create("X-Other", new StringValues("o"))], default, out var sent);
        var second = Key(TwoHeaders, "/u/1", ("X-B", "2"));

        Assert.Equal(first, second);
        Assert.StartsWith("users:", first, StringComparison.Ordinal);
        Assert.Equal(["x-b"], sent.Select(h => h.Key));
        Assert.NotEqual(first, Key(TwoHeaders, "/u/2", ("X-B", "2")));
        Assert.NotEqual(first, Key(TwoHeaders, "/u/1", ("X-A", "2")));
    }

    [Fact]
    public void Create_AuthorizationCached_IsPartOfTheKeyAndSent()
    {
        var policy = new ResponseCachePolicy(TimeSpan.FromMinutes(1), TimeSpan.Zero, TimeSpan.Zero, [], cacheAuthorized: true);
        KeyValuePair<string, StringValues>[] selected = [KeyValuePair.Create("Authorization", new StringValues("Bearer a"))];

        var alice = ResponseCacheKey.Create("users", "/u/1", policy, selected, "Bearer a", out var sent);
        var bob = ResponseCacheKey.Create("users", "/u/1", policy, selected, "Bearer b", out _);

        Assert.NotEqual(alice, bob);
        Assert.Equal(["Authorization"], sent.Select(h => h.Key));
        Assert.DoesNotContain("Bearer", alice, StringComparison.Ordinal);
    }
}
