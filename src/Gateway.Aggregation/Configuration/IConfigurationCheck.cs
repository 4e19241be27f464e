namespace Gateway.Configuration;

/// <summary>
/// A check of configuration the engine does not own (the host's Kestrel limits, YARP's values in the file),
/// run with the engine's own checks so that every bad key is reported at once, each named.
/// </summary>
internal interface IConfigurationCheck
{
    void Check(List<string> errors);
}
