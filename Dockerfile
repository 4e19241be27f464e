# syntax=docker/dockerfile:1
# The gateway as a container: build with the .NET 10 SDK, run on the ASP.NET Core 10 runtime as the non-root
# user `app`. Build from the repository root: docker build -t gateway:local .
# Configuration: the JSON file named by GATEWAY_CONFIG (mount yours over it); see deploy/README.md.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
# Restore first, from the projects (the host and the libraries it references) and the build files only, so that a
# code change reuses the restored packages layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Directory.Build.props src/
COPY src/Gateway/Gateway.csproj src/Gateway/
COPY src/Gateway.Aggregation/Gateway.Aggregation.csproj src/Gateway.Aggregation/
COPY src/Gateway.OpenApi/Gateway.OpenApi.csproj src/Gateway.OpenApi/
COPY src/Gateway.Caching.Redis/Gateway.Caching.Redis.csproj src/Gateway.Caching.Redis/
RUN dotnet restore src/Gateway/Gateway.csproj
COPY appsettings.json ./
COPY src/ src/
# The same command .ci/run runs (a test compares the two lines).
RUN dotnet publish src/Gateway/Gateway.csproj --no-restore -c Release -o artifacts/publish

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
WORKDIR /app
COPY --from=build /src/artifacts/publish/ ./
# The shipped configuration (the embedded demo) sits where GATEWAY_CONFIG points; mount your own file over it.
COPY --from=build /src/appsettings.json /etc/gateway/gateway.json
# `Urls` without a prefix: environment variables override keys of the configuration file, and a file's own
# `Urls` (the root one binds 127.0.0.1:5080) would otherwise win over ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS.
# The image's ASPNETCORE_HTTP_PORTS is emptied so Kestrel does not warn that Urls overrides it.
ENV GATEWAY_CONFIG=/etc/gateway/gateway.json \
    Urls=http://+:8080 \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 8080
USER $APP_UID
# The runtime image has neither curl nor wget; it has bash, whose /dev/tcp redirection opens a TCP connection.
# One HTTP/1.1 request, healthy when the status line says 200.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/live HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r status <&3 && [[ $status == 'HTTP/1.1 200 '* ]]"]
ENTRYPOINT ["dotnet", "Gateway.dll"]
