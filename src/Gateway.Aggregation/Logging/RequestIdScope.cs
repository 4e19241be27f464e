using System.Collections;

namespace Gateway.Logging;

/// <summary>The log scope carrying the request id as one structured property (<see cref="RequestId.ScopeKey"/>).</summary>
internal sealed class RequestIdScope(string id) : IReadOnlyList<KeyValuePair<string, object>>
{
    public int Count => 1;

    public KeyValuePair<string, object> this[int index] =>
        index == 0 ? new(RequestId.ScopeKey, id) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{RequestId.ScopeKey}:{id}";
}
