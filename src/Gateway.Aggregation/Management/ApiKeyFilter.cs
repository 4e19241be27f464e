using System.Security.Cryptography;
using System.Text;

namespace Gateway.Management;

/// <summary>
/// Lets a management request through only with the configured key in <c>X-Api-Key</c>. Missing and wrong keys
/// get the same bare 401. The keys are compared as SHA-256 digests of their UTF-8 bytes with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>: constant time, and not even the key's length leaks.
/// </summary>
internal sealed class ApiKeyFilter(string apiKey) : IEndpointFilter
{
    public const string Header = "X-Api-Key";

    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        Matches(context.HttpContext.Request.Headers[Header]) ? next(context) : ValueTask.FromResult<object?>(Results.StatusCode(StatusCodes.Status401Unauthorized));

    private bool Matches(Microsoft.Extensions.Primitives.StringValues given)
    {
        if (given.Count != 1 || given[0] is not { } key)
        {
            return false;
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
        return CryptographicOperations.FixedTimeEquals(digest, _expected);
    }
}
