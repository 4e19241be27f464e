using System.Text;
using Gateway.Aggregation;

namespace Gateway.Tests.Aggregation;

public sealed class JsonFieldTests
{
    private const string Json = """{"id":7,"name":"Ann","skip":{"customerId":"wrong"},"customerId":"c-1","vip":true,"address":{"city":"Oslo"},"tags":["a","b"],"none":null,"lone":"\ud800"}""";

    [Theory]
    [InlineData("customerId", "c-1")]
    [InlineData("id", "7")]
    [InlineData("vip", "true")]
    [InlineData("address.city", "Oslo")]
    [InlineData("tags.1", "b")]
    public void GetScalar_PathToScalar_ReturnsItsText(string path, string expected)
    {
        Assert.Equal(expected, JsonField.GetScalar(Encoding.UTF8.GetBytes(Json), path.Split('.')));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("none")]
    [InlineData("address")]
    [InlineData("tags")]
    [InlineData("tags.5")]
    [InlineData("name.first")]
    [InlineData("lone")]
    public void GetScalar_PathNotToScalar_ReturnsNull(string path)
    {
        Assert.Null(JsonField.GetScalar(Encoding.UTF8.GetBytes(Json), path.Split('.')));
    }
}
