using Gateway.Aggregation;

namespace Gateway.Tests.Aggregation;

public sealed class EndpointClaimsTests
{
    [Theory]
    [InlineData("/api/x/{id}", "GET", "/api/x/{userId}", "GET", true)]
    [InlineData("/API/X/{id}", "GET", "/api/x/{id:int}", "get", true)]
    [InlineData("/api/x/{id}", "GET", "/api/x/{id}", "POST", false)]
    [InlineData("/api/x/{id}", "GET", "/api/y/{id}", "GET", false)]
    [InlineData("/api/x/{id}", null, "/api/x/{other}", "DELETE", true)]
    [InlineData("/api/{**rest}", "GET", "/api/{id}", "GET", false)]
    public void Claim_SameShapeAndMethod_ClashNamesBothKeys(string first, string? firstMethod, string second, string secondMethod, bool clash)
    {
        var claims = new EndpointClaims();
        var errors = new List<string>();
        Assert.True(claims.Claim(first, firstMethod is null ? null : [firstMethod], "Key:One", errors));
        Assert.Equal(!clash, claims.Claim(second, [secondMethod], "Key:Two", errors));
        if (clash)
        {
            var error = Assert.Single(errors);
            Assert.StartsWith("Key:Two:", error, StringComparison.Ordinal);
            Assert.Contains("Key:One", error, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(errors);
        }
    }
}
