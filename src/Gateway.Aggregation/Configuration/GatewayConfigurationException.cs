namespace Gateway.Configuration;

/// <summary>The configuration cannot be used; the message names every offending key.</summary>
public sealed class GatewayConfigurationException : Exception
{
    /// <summary>The configuration has <paramref name="errors"/>, each naming its key.</summary>
    public GatewayConfigurationException(IReadOnlyList<string> errors)
        : base("Gateway configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
    {
        Errors = errors;
    }

    /// <summary>The configuration has one <paramref name="error"/>, naming its key.</summary>
    public GatewayConfigurationException(string error, Exception? innerException = null)
        : base("Gateway configuration is invalid:" + Environment.NewLine + "  - " + error, innerException)
    {
        Errors = [error];
    }

    /// <summary>One line per problem, each starting with the configuration key it concerns.</summary>
    public IReadOnlyList<string> Errors { get; }
}
