using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Logging;

/// <summary>Every line the gateway logs has an event id of its own: operators filter and alert on them.</summary>
public sealed class EventIdTests
{
    [Fact]
    public void LoggerMessages_AcrossTheGateway_HaveDistinctEventIdsAndNames()
    {
        var messages = new[] { typeof(Gateway.GatewayHost).Assembly, typeof(Gateway.Aggregation.AggregateBuilder).Assembly, typeof(Gateway.OpenApi.OpenApiPath).Assembly, typeof(Gateway.Caching.Redis.RedisConnection).Assembly }.SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => (Name: $"{m.Method.DeclaringType!.FullName}.{m.Method.Name}", m.Attribute!.EventId, EventName: m.Attribute.EventName ?? m.Method.Name))
            .ToList();

        Assert.True(messages.Count > 20, $"found only {messages.Count} logger messages");
        var sharedIds = messages.GroupBy(m => m.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Name))}").ToList();
        Assert.True(sharedIds.Count == 0, "event ids used twice: " + string.Join("; ", sharedIds));
        var sharedNames = messages.GroupBy(m => m.EventName).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Name))}").ToList();
        Assert.True(sharedNames.Count == 0, "event names used twice: " + string.Join("; ", sharedNames));
    }
}
