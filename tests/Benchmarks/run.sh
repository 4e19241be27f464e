#!/usr/bin/env bash
# Load benchmark: the gateway against its yardsticks, side by side in one run.
#
# Usage (from anywhere; the script moves to the repository root itself):
#
#     bash tests/Benchmarks/run.sh
#     BENCH_DURATION=5 BENCH_WARMUP_INITIAL=5 BENCH_WARMUP_SETTLE=0 bash tests/Benchmarks/run.sh    # quick check
#
# Scenarios. Each compares two sides measured one after the other in the same run, and every figure
# is reported as a ratio of the two:
#     fast         gateway /agg/fast vs baseline /agg/fast: 3 sources answering at once, 64 connections
#     staggered    the same with sources at 20/40/60 ms, 64 connections
#     hang         one optional source never answers (timeout 200 ms), HTTP/1.1, 64 connections
#     passthrough  gateway /proxy/delay/0 (ReverseProxy:Routes:bench, PathRemovePrefix /proxy, cluster a)
#                  vs a plain YARP host with the same route and cluster (tests/Benchmarks/PlainYarp),
#                  64 connections
#     resilient    gateway /agg/fast_resilient (clusters ra/rb/rc: Polly retry + circuit breaker, no
#                  faults) vs gateway /agg/fast, 64 connections
#     nginx        fast, with nginx as the downstream: a second gateway and a second baseline pointed
#                  at an nginx that answers /delay/0 with the same JSON (CPU per request is the figure)
#     hang_h2c     hang over HTTP/2 cleartext: clusters h2_a/h2_b/h2_c with HttpRequest Version 2,
#                  RequestVersionExact, against the downstream's HTTP/2-only endpoint; the baseline's
#                  h2c clients send HTTP/2 only (RequestVersionExact), 64 connections
#     cached       gateway /agg/cached (3 sources, each a cached dataset ca/cb/cc: Gateway:CachedData,
#                  the downstream's /delay/0 on clusters a/b/c, refreshed every 30 s) vs gateway /agg/fast
#                  (the same 3 bodies fetched live), 64 connections
#     cached_baseline
#                  gateway /agg/cached vs baseline /agg/cached (the same 3 bodies kept in IMemoryCache for
#                  30 s, cache-aside, parsed and merged into a JsonNode per request), 64 connections
#     cache_memory the per-source response cache ("Cache": { "Ttl": "5m" }) under a stream of distinct
#                  keys: a gateway of its own (tests/Benchmarks/gateway.cache.bench.json,
#                  Gateway:Cache:MaxBytes = BENCH_CACHE_MAX_MIB) serving /agg/cache_memory, one source
#                  /bytes/BENCH_CACHE_BODY_BYTES?k={k}; wrk with tests/Benchmarks/distinct-keys.lua sends
#                  another k on every request, so every request misses and is stored; its resident
#                  memory after the run is compared with 1.2 x (MaxBytes + its idle RSS, read after its
#                  first answer and before any load); 64 connections. The table says how many times the
#                  bodies streamed through (warm-up and measured run: requests x body bytes) fill MaxBytes.
#     telemetry    gateway /agg/fast with OpenTelemetry on vs the same build with it off (the `gateway`
#                  server): a second gateway on the same generated config, started with
#                  OTEL_EXPORTER_OTLP_ENDPOINT (http/protobuf) pointing at the downstream's OTLP sink
#                  (POST /v1/{traces,metrics,logs}: read, dropped, 200), traces sampled at 100 % (the
#                  SDK's default sampler, OTEL_TRACES_SAMPLER unset), metrics (every 10 s) and logs exported, and
#                  Gateway__Telemetry__Prometheus=true with /metrics scraped every second while it is
#                  loaded; 64 connections. The table says how many exports of each signal the sink got.
#     overload     /agg/fast past the knee, with and without Gateway:RateLimiting:MaxConcurrentRequests; its
#                  own gateways, load from hey -o csv so that 200s and 503s are timed apart; runs last,
#                  after the table (see tests/Benchmarks/overload.sh). BENCH_ONLY=overload runs only it.
#     soak         memory proven bounded: 600 s (BENCH_SOAK_SECONDS) of mixed traffic with Redis on (distinct cache
#                  keys, hits, failing and timing-out sources, 404s, routes, a shared dataset) against a gateway of its
#                  own, its RSS and live heap sampled every 10 s; the driver is the integration test
#                  Gateway.IntegrationTests.Soak.SoakTests (CI runs it for 60 s with generous bounds), run here in
#                  Release with the issue's bounds (see tests/Benchmarks/soak.sh). Not part of the default run (over
#                  11 minutes): BENCH_ONLY=soak or BENCH_SCENARIOS=soak runs only it; named with others, it runs last.
#
# Targets: fast: requests/s >= 1.0x baseline, CPU/request <= 0.9x, RSS <= 0.8x; staggered: p99 <= 66 ms;
# hang: p99 <= 210 ms; passthrough: requests/s >= 0.9x plain YARP and p99 within 1 ms of it;
# resilient: requests/s >= 0.95x fast; nginx: CPU/request <= 0.9x baseline; hang_h2c: p99 <= 210 ms;
# cached: requests/s >= 3x /agg/fast; cached_baseline: requests/s >= 1.2x baseline;
# cache_memory: RSS after the run <= 1.2 x (MaxBytes + idle RSS); telemetry: requests/s >= 0.9x telemetry off;
# soak: live heap slope after the first 2 minutes < 1 %/min, peak RSS < MaxBytes + 1.3 x idle RSS.
#
# The datasets of /agg/cached load in the background after start: before any load the script polls
# /agg/cached (bounded by BENCH_STARTUP_TIMEOUT) until all three sources answer ok.
#
# cache_memory needs the per-source response cache (issue 6 item 3). A gateway without it refuses the
# Cache keys at start ("unknown setting 'Cache'"); that is not an error: the scenario prints
# "skipped: gateway has no response cache (issue 6 item 3)" and its gateway is not started again.
#
# passthrough, resilient and hang_h2c need the gateway's YARP integration (pass-through routes, Polly
# resilience per downstream, the clusters' HTTP version). A gateway without it is not an error: it
# refuses Gateway:Downstreams:*:Resilience at start (the script then starts it again with those keys and
# the fast_resilient aggregate removed), answers 404 on /proxy/... and cannot call the h2c endpoint.
# Those scenarios print "skipped: ..." instead of figures; their comparison side (plain YARP, baseline
# h2c) is still measured when it is another server.
#
# Environment (all optional):
#     BENCH_DURATION=10         seconds of each measured wrk run
#     BENCH_ROUNDS=N            rounds of every scenario (default: 3 for fast, passthrough, resilient and the telemetry
#                               and production ones, 1 for the others); see ROUNDS
#     BENCH_WARMUP=3            seconds of the warm-up run before each measured run
#     BENCH_WARMUP_INITIAL=15   seconds of the one-off warm-up of the downstream and of each server
#     BENCH_WARMUP_SETTLE=45    at most this many seconds more per server and path, in 5 s runs, while the
#                               server's tiering JIT thread is still busy (see warm_up_all)
#     BENCH_STARTUP_TIMEOUT=30  seconds a server may take to answer after start
#     BENCH_NO_BUILD=1          skip the Release builds (use the existing bin/ output)
#     BENCH_CACHE_MAX_MIB=64    Gateway:Cache:MaxBytes of cache_memory, in MiB (64 is the gateway's default)
#     BENCH_CACHE_BODY_BYTES=16384  size of each body cache_memory stores (the downstream's /bytes/{n})
#     BENCH_KEEP=1              keep the temp dir (generated config, server logs, raw wrk output)
#     BENCH_GATEWAY_ENV="K=V .."  environment of every gateway process only (not the baseline's), e.g. DOTNET_GCgen0size=0x400000
#     BENCH_SCENARIOS="a b"     measure only these scenarios, overload included only when named (every server is still started and checked;
#                               the targets of the others say "not run"), e.g. BENCH_SCENARIOS=telemetry; soak only when named
#     BENCH_SOAK_SECONDS=600 BENCH_SOAK_RATE=1500 BENCH_SOAK_CONCURRENCY=32 BENCH_SOAK_MAX_MIB=64 BENCH_SOAK_BODY_BYTES=8192
#     BENCH_SOAK_ARTIFACTS=DIR  the soak scenario's settings and where its series go (see tests/Benchmarks/soak.sh)
#
# What it does:
#   1. checks that wrk and nginx are installed; when one is not and we are root with apt-get, installs
#      it (apt-get update && apt-get install -y wrk nginx), otherwise prints that command and exits 1;
#   2. builds src/Gateway and tests/Benchmarks/{Downstream,Baseline,PlainYarp} in Release;
#   3. starts, each on a free 127.0.0.1 port: the downstream (`dotnet <dll>`, an HTTP/1.1 endpoint and
#      an HTTP/2-only cleartext one, checked with curl --http2-prior-knowledge), nginx (daemon off, one
#      worker, nginx.conf generated in the temp dir, serving the downstream's own /delay/0 body), the
#      gateway (config generated from tests/Benchmarks/gateway.bench.json with the downstream's
#      addresses filled in), the baseline, the plain YARP host (same generated file), a second
#      gateway and baseline whose downstream is nginx, and the response-cache gateway of cache_memory;
#      waits until the datasets of /agg/cached have loaded, then checks that every measured URL
#      answers 200 before any load (a gateway-dependent one may be skipped, see above);
#   4. warms up the downstream and each server (BENCH_WARMUP_INITIAL; not the response-cache gateway,
#      whose idle RSS is read before its own run), then per scenario and side: warm-up, then a measured
#      `wrk -t2 -cN -dDs --latency`, with the server's CPU time read from /proc/PID/stat just before
#      and after, and its VmRSS (and for cache_memory VmHWM, the peak) read after;
#   5. prints one table per scenario and the targets with PASS/FAIL (or skipped).
#
# With the defaults the run takes about 10 minutes after the builds.
#
# Exit status: 0 when the benchmark ran (whatever PASS/FAIL says: it is a report), non-zero only
# when something could not run (build failure, a server not starting, a non-200 answer from a side
# that does not depend on the gateway's YARP integration, ...).
# Every wait is bounded and every process started here (and nginx's worker) is stopped on exit.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
WARMUP_INITIAL=${BENCH_WARMUP_INITIAL:-15}
WARMUP_SETTLE=${BENCH_WARMUP_SETTLE:-45}
STARTUP_TIMEOUT=${BENCH_STARTUP_TIMEOUT:-30}
CACHE_MAX_MIB=${BENCH_CACHE_MAX_MIB:-64}
CACHE_BODY_BYTES=${BENCH_CACHE_BODY_BYTES:-16384}

# Each scenario compares two sides, measured one after the other: the left side is the one under test
# (a gateway), the right side its comparison. Per side: the server (a key of PID/PORT) and the path.
SCENARIOS=(fast staggered hang passthrough resilient nginx hang_h2c cached cached_baseline cache_memory telemetry traces_default metrics production)
ALL_SCENARIOS=("${SCENARIOS[@]}")
# Rounds: a scenario's two sides take turns this many times (left, right, right, left, ...) and each side's
# figures combine its rounds (requests/s the mean, p50 and p99 those of the median round, CPU per request over
# all requests; RSS, scrapes and OTLP exports those of the last round). Scenarios run one after the other, so
# the two sides of one are measured only a run apart, but the speed of a shared machine drifts by 10-20 % within
# minutes: a target that judges a ratio near its margin needs the sides in the same minutes, several times.
# The scenarios whose targets the hot-path work is judged by take turns three times; the others once.
declare -A ROUNDS=([fast]=3 [passthrough]=3 [resilient]=3 [telemetry]=3 [traces_default]=3 [metrics]=3 [production]=3)
# Every scenario runs 64 connections. staggered too: its target (p99 within 6 ms of the slowest source) is about
# what a request waits for inside the gateway, not about a machine saturated by wrk and the downstream.
declare -A CONNECTIONS=([fast]=64 [staggered]=64 [hang]=64 [passthrough]=64 [resilient]=64 [nginx]=64 [hang_h2c]=64
    [cached]=64 [cached_baseline]=64 [cache_memory]=64 [telemetry]=64 [traces_default]=64 [metrics]=64 [production]=64)
declare -A LEFT_SERVER=([fast]=gateway [staggered]=gateway [hang]=gateway [passthrough]=gateway
    [resilient]=gateway [nginx]=gateway_nginx [hang_h2c]=gateway [cached]=gateway [cached_baseline]=gateway
    [cache_memory]=gateway_cache [telemetry]=gateway_telemetry [traces_default]=gateway_traces_default [metrics]=gateway_metrics [production]=gateway_production)
declare -A LEFT_PATH=([fast]=/agg/fast [staggered]=/agg/staggered [hang]=/agg/hang [passthrough]=/proxy/delay/0
    [resilient]=/agg/fast_resilient [nginx]=/agg/fast [hang_h2c]=/agg/hang_h2c [cached]=/agg/cached
    [cached_baseline]=/agg/cached [cache_memory]=/agg/cache_memory [telemetry]=/agg/fast [traces_default]=/agg/fast [metrics]=/agg/fast [production]=/agg/fast)
# cache_memory has no right side: its figure is compared with a limit computed from its own idle RSS.
declare -A RIGHT_SERVER=([fast]=baseline [staggered]=baseline [hang]=baseline [passthrough]=plain_yarp
    [resilient]=gateway [nginx]=baseline_nginx [hang_h2c]=baseline [cached]=gateway [cached_baseline]=baseline
    [telemetry]=gateway [traces_default]=gateway [metrics]=gateway [production]=baseline)
declare -A RIGHT_PATH=([fast]=/agg/fast [staggered]=/agg/staggered [hang]=/agg/hang [passthrough]=/proxy/delay/0
    [resilient]=/agg/fast [nginx]=/agg/fast [hang_h2c]=/agg/hang_h2c [cached]=/agg/fast [cached_baseline]=/agg/cached
    [telemetry]=/agg/fast [traces_default]=/agg/fast [metrics]=/agg/fast [production]=/agg/fast)
# Column titles of the table (left, right, ratio).
declare -A LEFT_LABEL=([resilient]=resilient [cached]=cached [telemetry]="telemetry on" [traces_default]="traces 10 %" [metrics]=prometheus [production]="gw production")
declare -A RIGHT_LABEL=([passthrough]="plain YARP" [resilient]=fast [cached]="live (fast)" [cached_baseline]="base cached"
    [telemetry]="off" [traces_default]="off" [metrics]="off")
declare -A RATIO_LABEL=([passthrough]=gw/yarp [resilient]=res/fast [cached]=cache/live [telemetry]=on/off [traces_default]=on/off [metrics]=on/off)
# A server whose /metrics (Prometheus) is scraped while its side of the scenario is loaded: every N seconds.
declare -A SCRAPE=([telemetry]=1 [metrics]=5 [production]=5)
# Headers wrk sends on every request of a scenario (one -H each).
declare -A WRK_HEADER=([production]="X-Request-Id: bench-production-0001")
# wrk script per scenario (its argument names the run, see distinct-keys.lua).
declare -A WRK_SCRIPT=([cache_memory]=tests/Benchmarks/distinct-keys.lua)
# The process that answers the scenario's downstream calls (its CPU is reported too).
declare -A DOWNSTREAM_OF=([nginx]=nginx)
declare -A DESCRIPTION=(
    [fast]="3 sources answering at once"
    [staggered]="sources at 20/40/60 ms"
    [hang]="one optional source never answers, timeout 200 ms, HTTP/1.1"
    [passthrough]="pass-through route /proxy/{**rest} -> cluster a, gateway vs plain YARP"
    [resilient]="fast on clusters with retry + circuit breaker (no faults) vs fast, both on the gateway"
    [nginx]="fast with nginx as the downstream"
    [hang_h2c]="hang over HTTP/2 cleartext (h2c, RequestVersionExact)"
    [cached]="3 sources from cached datasets vs the same 3 fetched live (/agg/fast), both on the gateway"
    [cached_baseline]="3 sources from cached datasets vs the baseline's IMemoryCache (JsonNode merge)"
    [cache_memory]="per-source response cache under a stream of distinct keys"
    [telemetry]="fast with OpenTelemetry on (100 % traces, metrics and logs over OTLP, Prometheus scraped) vs off"
    [traces_default]="fast with traces over OTLP at the gateway's default sampler (parent-based, 10 %) vs off"
    [metrics]="fast with Prometheus alone, scraped every 5 s, vs off"
    [production]="fast with every production feature on (retry + breaker, OTLP at the default sampler, Prometheus, rate limit, X-Request-Id, JSON logs) vs baseline")
# Scenarios whose gateway side needs the YARP integration: skipped (with the reason) when it is missing.
declare -A NEEDS_YARP=([passthrough]="a pass-through route (ReverseProxy:Routes, MapReverseProxy)"
    [resilient]="per-downstream resilience (Gateway:Downstreams:*:Resilience)"
    [hang_h2c]="the clusters' HttpRequest Version 2 (h2c) on aggregate calls")
declare -A SKIP=()          # scenario -> why its gateway side is not measured

GATEWAY_DLL=src/Gateway/bin/Release/net10.0/Gateway.dll
DOWNSTREAM_DLL=tests/Benchmarks/Downstream/bin/Release/net10.0/Gateway.Benchmarks.Downstream.dll
BASELINE_DLL=tests/Benchmarks/Baseline/bin/Release/net10.0/Gateway.Benchmarks.Baseline.dll
PLAIN_YARP_DLL=tests/Benchmarks/PlainYarp/bin/Release/net10.0/Gateway.Benchmarks.PlainYarp.dll
CONFIG_TEMPLATE=tests/Benchmarks/gateway.bench.json
CACHE_CONFIG_TEMPLATE=tests/Benchmarks/gateway.cache.bench.json
PRODUCTION_CONFIG_TEMPLATE=tests/Benchmarks/gateway.production.bench.json

declare -A PID=() PORT=()   # per server: process id, port (PORT also holds downstream_h2c, no process)
declare -A R=()             # results, keyed "scenario.side.metric" (side: left or right)
WRK_RUN=0                   # wrk runs so far: names each run for a wrk script (distinct keys per run)
WRK_PID=""
SCRAPER_PID=""              # the loop scraping /metrics during a telemetry run
WORK=""
IDLE_LOAD="n/a"
RESILIENCE_REFUSED=0        # the gateway refused Gateway:Downstreams:*:Resilience at start

log() { printf '[bench] %s\n' "$*" >&2; }

# The overload scenario (its own steps and table), sourced: it uses the helpers below.
# shellcheck source=tests/Benchmarks/overload.sh
source tests/Benchmarks/overload.sh
# The soak scenario (its own gateway, Redis and driver: an integration test), sourced likewise.
# shellcheck source=tests/Benchmarks/soak.sh
source tests/Benchmarks/soak.sh

die() {
    printf '[bench] ERROR: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Clean-up: stop every process we started (servers and a possibly running wrk), bounded.
# ---------------------------------------------------------------------------------------------
cleanup() {
    local rc=$? pid name alive i children=""
    trap - EXIT INT TERM
    if ((rc != 0)); then
        log "stopped with exit status $rc; stopping the servers"
    fi
    if [[ -n $WRK_PID ]]; then
        kill -TERM "$WRK_PID" 2>/dev/null || true
    fi
    if [[ -n $SCRAPER_PID ]]; then
        kill -TERM "$SCRAPER_PID" 2>/dev/null || true
    fi
    # nginx's worker is a child of the process we started: note it before stopping its parent, so
    # that it can be killed too should the master not stop it.
    for name in "${!PID[@]}"; do
        children+=" $(child_pids "${PID[$name]}")"
        kill -TERM "${PID[$name]}" 2>/dev/null || true
    done
    # Give the servers up to 5 s to shut down gracefully, then kill what is left.
    for ((i = 0; i < 50; i++)); do
        alive=0
        for pid in "${PID[@]}" $WRK_PID $children; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${PID[@]}" $WRK_PID $children; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ -n $WORK && -d $WORK ]]; then
        if [[ ${BENCH_KEEP:-0} == 1 ]]; then
            log "kept logs, generated config and raw wrk output in $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------------------------
require_tools() {
    local tool
    for tool in dotnet curl sed awk getconf timeout cmp; do
        command -v "$tool" >/dev/null || die "'$tool' is required but not installed"
    done
    [[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "BENCH_DURATION must be a positive number of seconds (got '$DURATION')"
    [[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a number of seconds (got '$WARMUP')"
    [[ -z ${BENCH_ROUNDS:-} || $BENCH_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive number (got '$BENCH_ROUNDS')"
    [[ $WARMUP_INITIAL =~ ^[0-9]+$ ]] || die "BENCH_WARMUP_INITIAL must be a number of seconds (got '$WARMUP_INITIAL')"
    [[ $WARMUP_SETTLE =~ ^[0-9]+$ ]] || die "BENCH_WARMUP_SETTLE must be a number of seconds (got '$WARMUP_SETTLE')"
    [[ $STARTUP_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_STARTUP_TIMEOUT must be a positive number (got '$STARTUP_TIMEOUT')"
    [[ $CACHE_MAX_MIB =~ ^[1-9][0-9]*$ ]] || die "BENCH_CACHE_MAX_MIB must be a positive number of MiB (got '$CACHE_MAX_MIB')"
    [[ $CACHE_BODY_BYTES =~ ^[1-9][0-9]*$ ]] && ((CACHE_BODY_BYTES >= 64 && CACHE_BODY_BYTES <= 1048576)) \
        || die "BENCH_CACHE_BODY_BYTES must be 64 to 1048576 (the downstream's /bytes/{n}; got '$CACHE_BODY_BYTES')"
    if [[ -n ${BENCH_SCENARIOS:-} ]]; then
        local scenario known
        for scenario in $BENCH_SCENARIOS; do
            known=0
            for s in "${ALL_SCENARIOS[@]}" overload soak; do [[ $s == "$scenario" ]] && known=1; done
            ((known)) || die "BENCH_SCENARIOS: unknown scenario '$scenario' (known: ${ALL_SCENARIOS[*]} overload soak)"
        done
        # overload and soak are not table scenarios: they run after the table (see the end of main).
        local table=" $BENCH_SCENARIOS "
        table=${table// overload / }
        table=${table// soak / }
        read -r -a SCENARIOS <<<"$table"
    fi
}

# Direct children of a process (nginx's worker), space-separated; empty when it has none or is gone.
child_pids() {
    cat /proc/"$1"/task/*/children 2>/dev/null | tr '\n' ' ' || true
}

# wrk is the load generator, nginx the second downstream, jq edits the generated gateway config when
# the gateway refuses a part of it. Installing is only attempted where that cannot surprise anyone:
# as root with apt-get (CI, containers). Elsewhere we say what to run.
require_apt_tool() {
    local tool=$1 package=$2
    command -v "$tool" >/dev/null && return 0
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "$tool is not installed; installing $package with apt-get (running as root)"
        timeout 300 apt-get update -qq >/dev/null || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq "$package" >/dev/null \
            || die "apt-get install -y $package failed"
        command -v "$tool" >/dev/null || die "$tool still not found after installing $package"
    else
        echo "$tool is not installed. Install it with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y $package" >&2
        exit 1
    fi
}

require_wrk() {
    require_apt_tool wrk wrk
    # nginx is in /usr/sbin, which a non-login root shell may not have on its PATH.
    PATH=$PATH:/usr/sbin
    require_apt_tool nginx nginx
}

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
build_one() {
    local project=$1 logfile
    logfile="$WORK/build-$(basename "$project").log"
    log "building $project (Release)"
    if ! timeout 600 dotnet build "$project" -c Release --nologo >"$logfile" 2>&1; then
        tail -n 30 "$logfile" >&2
        die "build of $project failed (full log above, last 30 lines)"
    fi
}

build_all() {
    if [[ ${BENCH_NO_BUILD:-0} == 1 ]]; then
        log "BENCH_NO_BUILD=1: using the existing Release builds"
    else
        build_one src/Gateway
        build_one tests/Benchmarks/Downstream
        build_one tests/Benchmarks/Baseline
        build_one tests/Benchmarks/PlainYarp
    fi
    local dll
    for dll in "$GATEWAY_DLL" "$DOWNSTREAM_DLL" "$BASELINE_DLL" "$PLAIN_YARP_DLL"; do
        [[ -f $dll ]] || die "$dll not found (build it, or drop BENCH_NO_BUILD)"
    done
}

# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------

# Picks a port in 20000-29999 (below Linux's ephemeral range 32768+, so no client socket of the
# run can hold it) that nobody listens on and that we did not hand out already.
pick_port() {
    local name=$1 port tries taken p
    for ((tries = 0; tries < 200; tries++)); do
        port=$((20000 + RANDOM % 10000))
        taken=0
        for p in "${PORT[@]}"; do [[ $p == "$port" ]] && taken=1; done
        ((taken)) && continue
        # A successful connect means something listens there already.
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        PORT[$name]=$port
        return 0
    done
    die "could not find a free port for $name"
}

# Starts `dotnet <dll> args...` in the background on its port. `dotnet x.dll` hosts the runtime in its
# own process, so $! is the server process itself: that is the PID whose CPU and RSS we read.
start_server() {
    local name=$1 dll=$2
    shift 2
    start_process "$name" dotnet "$dll" --urls "http://127.0.0.1:${PORT[$name]}" "$@"
}

start_process() {
    local name=$1
    shift
    log "starting $name on 127.0.0.1:${PORT[$name]}"
    local extra=()
    [[ $name != gateway* || -z ${BENCH_GATEWAY_ENV:-} ]] || read -ra extra <<<"$BENCH_GATEWAY_ENV"
    ASPNETCORE_ENVIRONMENT=Production DOTNET_ENVIRONMENT=Production env "${extra[@]}" "$@" >>"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
}

# Process state letter of a server (R, S, ...; Z for a zombie), empty when it is gone.
server_state() {
    local stat=""
    stat=$(cat "/proc/${PID[$1]}/stat" 2>/dev/null) || true
    [[ -n $stat ]] || return 0
    stat=${stat##*) }
    echo "${stat%% *}"
}

# Exit status of a server that is gone, as text ("exit status 2", "killed by signal 9: KILL").
exit_description() {
    local status=0
    wait "${PID[$1]}" 2>/dev/null || status=$?
    if ((status > 128)); then
        echo "killed by signal $((status - 128)): $(kill -l $((status - 128)) 2>/dev/null || echo '?')"
    else
        echo "exit status $status"
    fi
}

server_failed() {
    local name=$1 message=$2 state
    state=$(server_state "$name")
    # If it is gone, say how: an exit code, or a signal (status 128+N) sent by someone else.
    if [[ -z $state || $state == Z ]]; then
        message="$message ($(exit_description "$name"))"
    fi
    echo "----- last lines of the $name output ($WORK/$name.log) -----" >&2
    tail -n 40 "$WORK/$name.log" >&2 || true
    echo "-----" >&2
    die "$message"
}

server_gone() {
    local state
    state=$(server_state "$1")
    [[ -z $state || $state == Z ]]
}

# Fails loudly when a server is gone (exited, or killed and not yet reaped: a zombie).
ensure_running() {
    if server_gone "$1"; then
        server_failed "$1" "$1 is no longer running"
    fi
}

# Waits (bounded) until the server answers anything at all over HTTP on the given path.
# Returns 1 when the server exited meanwhile and "may_exit" is given, fails otherwise.
wait_ready() {
    local name=$1 path=$2 may_exit=${3:-} code deadline=$((SECONDS + STARTUP_TIMEOUT))
    while ((SECONDS < deadline)); do
        if server_gone "$name"; then
            [[ -z $may_exit ]] || return 1
            server_failed "$name" "$name is no longer running"
        fi
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:${PORT[$name]}$path" || true)
        if [[ -n $code && $code != 000 ]]; then
            return 0
        fi
        sleep 0.2
    done
    server_failed "$name" "$name did not answer on port ${PORT[$name]} within ${STARTUP_TIMEOUT}s"
}

# The downstream: HTTP/1.1 on PORT[downstream] and HTTP/2 only, cleartext (h2c with prior knowledge)
# on PORT[downstream_h2c]. Checks that the second one really speaks HTTP/2 and nothing else.
start_downstream() {
    pick_port downstream
    pick_port downstream_h2c
    start_process downstream dotnet "$DOWNSTREAM_DLL" --Port "${PORT[downstream]}" --H2cPort "${PORT[downstream_h2c]}"
    wait_ready downstream /delay/0

    local url="http://127.0.0.1:${PORT[downstream_h2c]}/delay/0" answer
    curl -s -o "$WORK/payload.json" -m 10 "http://127.0.0.1:${PORT[downstream]}/delay/0" \
        || server_failed downstream "GET /delay/0 failed on the downstream"
    if curl -V | grep -qw HTTP2; then
        answer=$(curl -s --http2-prior-knowledge -o "$WORK/payload-h2c.json" -m 10 -w '%{http_code} HTTP/%{http_version}' "$url" || true)
        [[ $answer == "200 HTTP/2" ]] || server_failed downstream "curl --http2-prior-knowledge $url answered '${answer:-nothing}' instead of '200 HTTP/2'"
        cmp -s "$WORK/payload.json" "$WORK/payload-h2c.json" || server_failed downstream "$url answered another body over h2c"
        log "downstream h2c endpoint answers HTTP/2 200 (curl --http2-prior-knowledge)"
    else
        log "WARNING: this curl has no HTTP/2; the h2c endpoint is checked only through the baseline's hang_h2c"
    fi
}

# nginx as a second downstream: one worker, no access log, answering GET /delay/0 with the very bytes
# the .NET downstream sends (a 200, application/json, Content-Length), keep-alive for 100,000 requests.
start_nginx() {
    local payload dir="$WORK/nginx"
    payload=$(cat "$WORK/payload.json")
    # The body goes into a single-quoted nginx string, where \\ and $ would be interpreted.
    [[ $payload != *[\'\\\$]* ]] || die "the downstream's payload has a quote, backslash or dollar: cannot put it into nginx.conf as is"
    mkdir -p "$dir"
    pick_port nginx
    cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $WORK/nginx.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    keepalive_requests 100000;
    keepalive_timeout 75s;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:${PORT[nginx]};
        location /delay/0 {
            default_type application/json;
            return 200 '$payload';
        }
    }
}
CONF
    start_process nginx nginx -p "$dir" -e "$WORK/nginx.log" -c "$dir/nginx.conf"
    wait_ready nginx /delay/0
    curl -s -o "$WORK/payload-nginx.json" -m 10 "http://127.0.0.1:${PORT[nginx]}/delay/0" \
        || server_failed nginx "GET /delay/0 failed on nginx"
    cmp -s "$WORK/payload.json" "$WORK/payload-nginx.json" || server_failed nginx "nginx answers /delay/0 with another body than the downstream"
    log "nginx $(nginx -v 2>&1 | sed 's|.*/||') answers /delay/0 with the downstream's body"
}

# The gateway's --config file replaces its appsettings.json: generated from the template with the real
# downstream addresses in place of the placeholders. Once the gateway has refused the Resilience
# settings, they and the aggregate that uses them are left out (jq), so that the rest can be measured.
write_gateway_config() {
    local out=$1 downstream=$2 downstream_h2c=$3
    sed "s|__DOWNSTREAM_H2C__|$downstream_h2c|g; s|__DOWNSTREAM__|$downstream|g" "$CONFIG_TEMPLATE" >"$out"
    if ((RESILIENCE_REFUSED)); then
        require_apt_tool jq jq
        jq 'del(.Gateway.Downstreams[].Resilience) | del(.Gateway.Aggregates.fast_resilient)' "$out" >"$out.tmp"
        mv "$out.tmp" "$out"
    fi
}

# Starts a gateway (in the background) on a config generated for it.
start_gateway() {
    local name=$1 downstream=$2 downstream_h2c=$3
    local config="$WORK/$name.bench.json"
    write_gateway_config "$config" "$downstream" "$downstream_h2c"
    start_server "$name" "$GATEWAY_DLL" --config "$config"
}

# Waits until a gateway answers. A gateway without the YARP integration stops at start with "unknown
# setting 'Resilience'": then the Resilience keys are dropped, the resilient scenario is marked skipped,
# and the gateway is started again.
wait_gateway() {
    local name=$1 downstream=$2 downstream_h2c=$3
    wait_ready "$name" /agg/fast may_exit && return 0
    grep -q "unknown setting 'Resilience'" "$WORK/$name.log" || server_failed "$name" "$name stopped at start"
    mv "$WORK/$name.log" "$WORK/$name-refused.log"
    if ((RESILIENCE_REFUSED == 0)); then
        RESILIENCE_REFUSED=1
        SKIP[resilient]="skipped: gateway refused Gateway:Downstreams:*:Resilience at start (needs the YARP integration)"
    fi
    log "$name refused the Resilience settings ($(exit_description "$name"), see $WORK/$name-refused.log);" \
        "starting it again without them and without the fast_resilient aggregate"
    start_gateway "$name" "$downstream" "$downstream_h2c"
    wait_ready "$name" /agg/fast
}

# The gateway of cache_memory: its own process on its own config (cluster a, the response cache, the
# aggregate /agg/cache_memory), so that its idle and loaded memory are its own.
start_gateway_cache() {
    local downstream=$1 config="$WORK/gateway_cache.bench.json"
    sed "s|__DOWNSTREAM__|$downstream|g; s|__CACHE_MAX_BYTES__|$((CACHE_MAX_MIB * 1048576))|g; s|__CACHE_BODY_BYTES__|$CACHE_BODY_BYTES|g" \
        "$CACHE_CONFIG_TEMPLATE" >"$config"
    pick_port gateway_cache
    start_server gateway_cache "$GATEWAY_DLL" --config "$config"
}

# The gateways of the telemetry scenarios: the same build on a copy of the gateway's generated config, with
# OpenTelemetry on, named by the environment after the name (a gateway old enough to refuse the Resilience keys has
# no telemetry either: it then stops at start and the run says so):
#   gateway_telemetry       OTLP over http/protobuf to the downstream's sink with every trace sampled
#                           (Gateway:Telemetry:SamplingRatio 1), metrics every 10 s and logs; Prometheus at /metrics
#   gateway_traces_default  the same at the gateway's default sampler (parent-based, 1 trace in 10), Prometheus off
#   gateway_metrics         Prometheus alone (no OTLP), scraped every 5 s
start_gateway_telemetry() {
    local name=$1
    shift
    pick_port "$name"
    cp "$WORK/gateway.bench.json" "$WORK/$name.bench.json"
    start_process "$name" env "$@" dotnet "$GATEWAY_DLL" --urls "http://127.0.0.1:${PORT[$name]}" --config "$WORK/$name.bench.json"
}

# The gateway of the production scenario: what a team runs in production (tests/Benchmarks/gateway.production.bench.json:
# retry + circuit breaker on every cluster, the per-client rate limit far above the load, JSON console logs at
# Information, Prometheus), with OTLP over http/protobuf to the downstream's sink at the gateway's default sampler
# (OTEL_TRACES_SAMPLER unset); wrk sends X-Request-Id.
start_gateway_production() {
    local downstream=$1 config="$WORK/gateway_production.bench.json"
    sed "s|__DOWNSTREAM__|$downstream|g" "$PRODUCTION_CONFIG_TEMPLATE" >"$config"
    pick_port gateway_production
    start_process gateway_production env OTEL_EXPORTER_OTLP_ENDPOINT="$downstream" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
        OTEL_SERVICE_NAME=gateway-production \
        dotnet "$GATEWAY_DLL" --urls "http://127.0.0.1:${PORT[gateway_production]}" --config "$config"
}

# Scrapes a server's /metrics every second in the background (what Prometheus would do, more often than
# its usual 15 s) until stop_scraper; counts the scrapes that answered 200 in $WORK/scrapes-<name>.
start_scraper() {
    local name=$1 interval=$2 url="http://127.0.0.1:${PORT[$1]}/metrics"
    : >"$WORK/scrapes-$name"
    (
        while true; do
            code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" || true)
            echo "$code" >>"$WORK/scrapes-$name"
            sleep "$interval"
        done
    ) &
    SCRAPER_PID=$!
}

stop_scraper() {
    [[ -n $SCRAPER_PID ]] || return 0
    kill -TERM "$SCRAPER_PID" 2>/dev/null || true
    wait "$SCRAPER_PID" 2>/dev/null || true
    SCRAPER_PID=""
}

# A gateway without the response cache stops at start with "unknown setting 'Cache'": then cache_memory
# is skipped and that gateway is not started again (it has nothing else to serve).
wait_gateway_cache() {
    wait_ready gateway_cache /health/live may_exit && return 0
    grep -q "unknown setting 'Cache'" "$WORK/gateway_cache.log" || server_failed gateway_cache "gateway_cache stopped at start"
    log "gateway_cache refused the response-cache settings ($(exit_description gateway_cache), see $WORK/gateway_cache-refused.log)"
    mv "$WORK/gateway_cache.log" "$WORK/gateway_cache-refused.log"
    unset 'PID[gateway_cache]'
    SKIP[cache_memory]="skipped: gateway has no response cache (issue 6 item 3)"
    log "cache_memory: ${SKIP[cache_memory]}"
}

# The datasets of /agg/cached load in the background after start: wait (bounded) until all three of its
# sources answer ok, so that no run measures "has not loaded yet" errors.
wait_datasets() {
    local name=$1 url="http://127.0.0.1:${PORT[$1]}/agg/cached" body="$WORK/datasets-$1.json" code ok deadline=$((SECONDS + STARTUP_TIMEOUT))
    while ((SECONDS < deadline)); do
        code=$(curl -s -o "$body" -m 2 -w '%{http_code}' "$url" || true)
        ok=$(grep -o '"outcome":"ok"' "$body" 2>/dev/null | wc -l || true)
        if [[ $code == 200 ]] && ((ok == 3)); then
            log "$name: the datasets of /agg/cached have loaded"
            return 0
        fi
        ensure_running "$name"
        sleep 0.2
    done
    echo "last response (HTTP ${code:-nothing}): $(head -c 500 "$body" 2>/dev/null)" >&2
    server_failed "$name" "$url did not answer with all three sources ok within ${STARTUP_TIMEOUT}s (datasets not loaded)"
}

# One request per measured URL must answer 200 (an aggregate with a "data" member, the pass-through
# route with the downstream's body) before any load: otherwise we would measure 404s or 500s and call
# it throughput. A gateway side that needs the YARP integration is skipped instead of failing.
check_side() {
    local scenario=$1 side=$2 name path url body code problem=""
    if [[ $side == left ]]; then name=${LEFT_SERVER[$scenario]} path=${LEFT_PATH[$scenario]}; else name=${RIGHT_SERVER[$scenario]} path=${RIGHT_PATH[$scenario]}; fi
    url="http://127.0.0.1:${PORT[$name]}$path"
    # A key no wrk run sends (those are <run>-<thread>-<n>).
    [[ -z ${WRK_SCRIPT[$scenario]:-} ]] || url+="?k=check"
    body="$WORK/check-$scenario-$side.json"
    code=$(curl -s -o "$body" -m 10 -w '%{http_code}' "$url" || true)
    if [[ $code != 200 ]]; then
        problem="HTTP ${code:-nothing}"
    elif [[ $path == /agg/* ]] && ! grep -q '"data"' "$body"; then
        problem="200 without a \"data\" member"
    elif [[ $path == /proxy/* ]] && ! cmp -s "$body" "$WORK/payload.json"; then
        problem="200 with another body than the downstream's /delay/0"
    fi

    if [[ -n $problem ]]; then
        if [[ $side == left && -n ${NEEDS_YARP[$scenario]:-} ]]; then
            if [[ $code == 404 ]]; then
                SKIP[$scenario]="skipped: gateway has no route (needs the YARP integration)"
            else
                SKIP[$scenario]="skipped: gateway answered $problem on $path (needs the YARP integration: ${NEEDS_YARP[$scenario]})"
            fi
            log "$scenario: GET $url answered $problem: $(head -c 300 "$body" 2>/dev/null | tr -d '\n')"
            log "$scenario: ${SKIP[$scenario]}"
            return 0
        fi
        echo "response body: $(head -c 500 "$body" 2>/dev/null)" >&2
        server_failed "$name" "GET $url answered $problem instead of 200 with the expected body"
    fi

    # The telemetry side must really have its telemetry on: Prometheus answers with the gateway's instruments.
    if [[ $side == left && -n ${SCRAPE[$scenario]:-} ]]; then
        code=$(curl -s -o "$WORK/check-$scenario-metrics.txt" -m 10 -w '%{http_code}' "http://127.0.0.1:${PORT[$name]}/metrics" || true)
        if [[ $code != 200 ]] || ! grep -q '^gateway_aggregate_duration' "$WORK/check-$scenario-metrics.txt"; then
            server_failed "$name" "GET /metrics on $name answered HTTP ${code:-nothing} without gateway_aggregate_duration (telemetry is not on)"
        fi
    fi

    # Where every source answers well within its timeout, errors must be empty; in the hang scenarios
    # only the hanging source c may fail.
    if [[ $path == /agg/* ]]; then
        if [[ $scenario != hang* ]] && ! grep -Eq '"errors"[[:space:]]*:[[:space:]]*\[[[:space:]]*\]' "$body"; then
            log "WARNING: $name $path sample response reports errors: $(grep -o '"errors".\{0,300\}' "$body" | head -c 300)"
        elif [[ $scenario == hang* ]] && ! grep -q '"b"[[:space:]]*:[[:space:]]*{' "$body"; then
            log "WARNING: $name $path sample response has no data from source b: $(head -c 300 "$body")"
        fi
    fi
}

# Whether a side of a scenario is measured: the gateway side unless skipped; its comparison also when
# the gateway side is skipped, if the comparison is another server (plain YARP, the baseline's h2c).
will_measure() {
    local scenario=$1 side=$2
    [[ $side == left || -n ${RIGHT_SERVER[$scenario]:-} ]] || return 1
    [[ -z ${SKIP[$scenario]:-} ]] && return 0
    [[ $side == right && ${LEFT_SERVER[$scenario]} != "${RIGHT_SERVER[$scenario]:-}" ]]
}

start_all() {
    start_downstream
    start_nginx

    local downstream="http://127.0.0.1:${PORT[downstream]}" downstream_h2c="http://127.0.0.1:${PORT[downstream_h2c]}"
    local nginx="http://127.0.0.1:${PORT[nginx]}"

    # Started together, waited for one by one: they take a few seconds each to start.
    pick_port gateway
    start_gateway gateway "$downstream" "$downstream_h2c"
    pick_port baseline
    start_server baseline "$BASELINE_DLL" --Downstream "$downstream" --DownstreamH2c "$downstream_h2c"
    # The plain YARP host reads the ReverseProxy section of a copy of the gateway's generated config:
    # same route, same cluster (the section is the same in the file the gateway may be restarted with).
    cp "$WORK/gateway.bench.json" "$WORK/plain_yarp.bench.json"
    pick_port plain_yarp
    start_server plain_yarp "$PLAIN_YARP_DLL" --config "$WORK/plain_yarp.bench.json"
    # The nginx pair: its h2c clusters point at nginx too, but no scenario calls them.
    pick_port gateway_nginx
    start_gateway gateway_nginx "$nginx" "$nginx"
    pick_port baseline_nginx
    start_server baseline_nginx "$BASELINE_DLL" --Downstream "$nginx"
    start_gateway_cache "$downstream"
    local otlp=(OTEL_EXPORTER_OTLP_ENDPOINT="$downstream" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_METRIC_EXPORT_INTERVAL=10000
        OTEL_SERVICE_NAME=gateway-bench)
    start_gateway_telemetry gateway_telemetry "${otlp[@]}" Gateway__Telemetry__SamplingRatio=1 Gateway__Telemetry__Prometheus=true
    start_gateway_telemetry gateway_traces_default "${otlp[@]}"
    start_gateway_telemetry gateway_metrics Gateway__Telemetry__Prometheus=true
    start_gateway_production "$downstream"

    wait_gateway gateway "$downstream" "$downstream_h2c"
    wait_gateway gateway_nginx "$nginx" "$nginx"
    wait_ready baseline /agg/fast
    wait_ready plain_yarp /proxy/delay/0
    wait_ready baseline_nginx /agg/fast
    wait_gateway_cache
    wait_ready gateway_telemetry /agg/fast
    wait_ready gateway_traces_default /agg/fast
    wait_ready gateway_metrics /agg/fast
    wait_ready gateway_production /agg/fast
    wait_datasets gateway

    local scenario
    for scenario in "${SCENARIOS[@]}"; do
        [[ -n ${SKIP[$scenario]:-} ]] || check_side "$scenario" left
        if will_measure "$scenario" right; then
            check_side "$scenario" right
        fi
    done
    local skipped="${!SKIP[*]}"
    log "every measured URL answers 200 (gateway side skipped: ${skipped:-none})"
}

# Warm-up before anything is measured. With the default tiered JIT and dynamic PGO a server on
# this 2-core box needs ~15 s under full load before its throughput settles (tier-1 code is
# compiled in the background, competing with the load); a few seconds are not enough and would
# make whichever server happens to be colder look up to 40% worse.
# The downstream is shared by the servers: warm it on its own first, so that the first server
# warmed does not pay for it. Then each server gets the same initial warm-up on each path it is
# compared on that runs the most code per second (the gateway: /agg/fast and /agg/cached, and the
# pass-through route and /agg/fast_resilient when it has them; the baseline: /agg/fast and /agg/cached).
# nginx needs no warm-up; the response-cache gateway gets none either (its idle RSS is part of its figure).
warm_up_all() {
    local name path
    if ((WARMUP_INITIAL == 0)); then
        return 0
    fi
    log "downstream: initial warm-up ${WARMUP_INITIAL}s"
    run_wrk "$WORK/warmup-downstream.txt" 64 "$WARMUP_INITIAL" "http://127.0.0.1:${PORT[downstream]}/delay/0"
    local -a warmups=(gateway:/agg/fast)
    [[ -n ${SKIP[passthrough]:-} ]] || warmups+=(gateway:/proxy/delay/0)
    [[ -n ${SKIP[resilient]:-} ]] || warmups+=(gateway:/agg/fast_resilient)
    warmups+=(gateway:/agg/cached baseline:/agg/fast baseline:/agg/cached plain_yarp:/proxy/delay/0
        gateway_nginx:/agg/fast baseline_nginx:/agg/fast gateway_telemetry:/agg/fast gateway_traces_default:/agg/fast gateway_metrics:/agg/fast gateway_production:/agg/fast)
    # Only the servers a selected scenario measures: with BENCH_SCENARIOS=production two are warmed up, not twelve.
    local -A measured=()
    local scenario warmup
    for scenario in "${SCENARIOS[@]}"; do
        measured[${LEFT_SERVER[$scenario]}]=1
        [[ -z ${RIGHT_SERVER[$scenario]:-} ]] || measured[${RIGHT_SERVER[$scenario]}]=1
    done
    for warmup in "${warmups[@]}"; do
        name=${warmup%%:*} path=${warmup#*:}
        [[ -n ${measured[$name]:-} || " ${BENCH_SCENARIOS:-} " == *" overload "* ]] || continue
        log "$name: initial warm-up ${WARMUP_INITIAL}s on $path"
        run_wrk "$WORK/warmup-initial-$name-${path//\//_}.txt" 64 "$WARMUP_INITIAL" "http://127.0.0.1:${PORT[$name]}$path"
        settle_jit "$name" "$path"
        ensure_running "$name"
    done
}

# Tiered compilation goes on well past the first seconds under load: the production gateway's tiering thread
# spent 2.3 s of CPU in the first 10 s, 0.6 s in the next 10 and nothing after 30 (a run by hand). A server
# measured while its JIT still works pays for it in CPU per request, the one with more code (the gateway) more.
# So each warm-up goes on, 5 s at a time, while the ".NET Tiered Com" thread took more than 1 % of a core over
# the last run, at most BENCH_WARMUP_SETTLE seconds; the log says how long it took.
settle_jit() {
    jit_settle "${PID[$1]}" "$WARMUP_SETTLE" run_wrk "$WORK/warmup-settle-$1-${2//\//_}.txt" 64 5 "http://127.0.0.1:${PORT[$1]}$2"
    log "$1: JIT $JIT_STATE on $2 after ${JIT_WAITED}s more"
}

# ---------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------

# How busy the machine is before we start anything (2 s sample): a benchmark on a machine that
# is already running a build or tests is not worth much, and the header says so.
sample_idle_load() {
    local before after
    before=$(machine_jiffies)
    sleep 2
    after=$(machine_jiffies)
    IDLE_LOAD=$(awk -v b="$before" -v a="$after" 'BEGIN {
        split(b, x, " "); split(a, y, " ")
        if (y[2] > x[2]) printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]); else print "n/a" }')
    log "machine CPU busy before start: ${IDLE_LOAD}%"
}

# shellcheck source=proc.sh
source tests/Benchmarks/proc.sh

# CPU time (utime + stime) of a process, in clock ticks.
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || die "process $1 is gone"
    stat_ticks "$stat"
}

# Busy, total and interrupt jiffies of the whole machine (first line of /proc/stat: user nice
# system idle iowait irq softirq steal; guest time is already inside user, so it is not added
# again). Interrupt time (irq + softirq) is mostly the loopback network traffic of the run itself,
# charged to no process.
machine_jiffies() {
    awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t, $7 + $8; exit }' /proc/stat
}

# CPU ticks of this script's finished children (cutime + cstime, fields 16/17 of /proc/$$/stat):
# wrk's time lands there when it exits (timeout waits for wrk, this shell waits for timeout).
children_ticks() {
    local stat
    stat=$(cat "/proc/$$/stat")
    stat=${stat##*) }
    local -a f
    read -r -a f <<<"$stat"
    echo $((f[13] + f[14]))
}

# CPU ticks of a process and its direct children (nginx's master and worker), live children only.
tree_ticks() {
    local total child ticks
    total=$(cpu_ticks "$1")
    for child in $(child_pids "$1"); do
        ticks=$( (cpu_ticks "$child") 2>/dev/null) || continue
        total=$((total + ticks))
    done
    echo "$total"
}

rss_mib() {
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# Peak resident memory of a process so far (VmHWM), in MiB.
peak_rss_mib() {
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# Runs wrk in the background and waits for it, so that an interrupt can stop it from cleanup.
# `timeout` bounds it even if wrk hangs (it should stop by itself after -d). With a script (5th
# argument) wrk gets the number of this run as the script's argument.
run_wrk() {
    local out=$1 connections=$2 seconds=$3 url=$4 script=${5:-} header=${6:-} rc=0
    local -a with_script=() with_header=()
    [[ -z $header ]] || with_header=(-H "$header")
    if [[ -n $script ]]; then
        WRK_RUN=$((WRK_RUN + 1))
        with_script=(-s "$script" "$url" -- "run$WRK_RUN")
    else
        with_script=("$url")
    fi
    timeout -k 5 $((seconds + 30)) wrk -t2 -c"$connections" -d"${seconds}s" --latency "${with_header[@]}" "${with_script[@]}" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    if ((rc != 0)) || ! grep -q 'requests in' "$out"; then
        cat "$out" >&2
        die "wrk failed (exit $rc) against $url"
    fi
}

# Exports the downstream's OTLP sink received between two readings of its /v1/received
# ({"traces":n,"metrics":n,"logs":n}), as "traces/metrics/logs".
otlp_exports() {
    awk -v b="$1" -v a="$2" 'function get(s, k,   m) { if (match(s, "\"" k "\":[0-9]+")) return substr(s, RSTART + length(k) + 3, RLENGTH - length(k) - 3) + 0; return -1 }
        BEGIN { if (get(a, "traces") < 0) { print "n/a"; exit } printf "%d/%d/%d", get(a, "traces") - get(b, "traces"), get(a, "metrics") - get(b, "metrics"), get(a, "logs") - get(b, "logs") }'
}

# wrk prints latencies as 850.00us, 12.34ms, 1.02s or 1.50m: convert to milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}

# Measures one side (left or right) of a scenario; results go to R["scenario.side.metric"].
measure() {
    local scenario=$1 side=$2 name path
    if [[ $side == left ]]; then name=${LEFT_SERVER[$scenario]} path=${LEFT_PATH[$scenario]}; else name=${RIGHT_SERVER[$scenario]} path=${RIGHT_PATH[$scenario]}; fi
    local connections=${CONNECTIONS[$scenario]} pid=${PID[$name]} downstream=${DOWNSTREAM_OF[$scenario]:-downstream}
    local url="http://127.0.0.1:${PORT[$name]}$path"
    local out="$WORK/wrk-$scenario-$side.txt" script=${WRK_SCRIPT[$scenario]:-}
    local key="$scenario.$side" requests warmup_requests=0

    ensure_running "$name"
    ensure_running "$downstream"
    # Before any load on this server (only the response-cache gateway gets none before its scenario).
    [[ -n ${R[$key.idle_rss]:-} ]] || R[$key.idle_rss]=$(rss_mib "$pid")
    local scraping=0 otlp_before=""
    if [[ $side == left && -n ${SCRAPE[$scenario]:-} ]]; then
        scraping=1
        otlp_before=$(curl -s -m 5 "http://127.0.0.1:${PORT[downstream]}/v1/received" || true)
        start_scraper "$name" "${SCRAPE[$scenario]}"
    fi

    if ((WARMUP > 0)); then
        log "$scenario / $name $path: warm-up ${WARMUP}s, $connections connections${script:+, $script}"
        run_wrk "$WORK/warmup-$scenario-$side.txt" "$connections" "$WARMUP" "$url" "$script" "${WRK_HEADER[$scenario]:-}"
        ensure_running "$name"
        warmup_requests=$(awk '/requests in/ { print $1; exit }' "$WORK/warmup-$scenario-$side.txt")
    fi

    log "$scenario / $name $path: measuring ${DURATION}s, $connections connections"
    # Besides the server, note the downstream's CPU and how busy the whole machine was: on a
    # small box a saturated CPU (wrk + downstream + server) is what stretches the tail latency.
    local before after ds_before ds_after m_before m_after w_before w_after
    w_before=$(children_ticks)
    m_before=$(machine_jiffies)
    ds_before=$(tree_ticks "${PID[$downstream]}")
    before=$(cpu_ticks "$pid")
    run_wrk "$out" "$connections" "$DURATION" "$url" "$script" "${WRK_HEADER[$scenario]:-}"
    if ((scraping)); then
        stop_scraper
        R[$key.scrapes]=$(awk '$1 == 200 { ok++ } END { printf "%d/%d", ok, NR }' "$WORK/scrapes-$name")
        R[$key.otlp]=$(otlp_exports "$otlp_before" "$(curl -s -m 5 "http://127.0.0.1:${PORT[downstream]}/v1/received" || true)")
    fi
    # A server that died during the run would leave numbers that mean nothing.
    ensure_running "$name"
    ensure_running "$downstream"
    after=$(cpu_ticks "$pid")
    ds_after=$(tree_ticks "${PID[$downstream]}")
    m_after=$(machine_jiffies)
    w_after=$(children_ticks)

    requests=$(awk '/requests in/ { print $1; exit }' "$out")
    R[$key.requests]=$requests
    R[$key.all_requests]=$((requests + warmup_requests))
    R[$key.rps]=$(awk '/^Requests\/sec:/ { printf "%.1f", $2 }' "$out")
    R[$key.p50]=$(to_ms "$(awk '$1 == "50%" { print $2; exit }' "$out")")
    R[$key.p99]=$(to_ms "$(awk '$1 == "99%" { print $2; exit }' "$out")")
    R[$key.non2xx]=$(awk '/Non-2xx or 3xx responses:/ { print $NF; found = 1 } END { if (!found) print 0 }' "$out")
    # "Socket errors: connect 0, read 0, write 0, timeout 12" -> total of the four.
    R[$key.sockerr]=$(awk '/Socket errors:/ { gsub(/,/, ""); t = $4 + $6 + $8 + $10 } END { print t + 0 }' "$out")
    R[$key.cpu]=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" \
        'BEGIN { if (n > 0) printf "%.3f", d * 1000 / hz / n; else print "n/a" }')
    R[$key.cpums]=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", d * 1000 / hz }')
    R[$key.rss]=$(rss_mib "$pid")
    R[$key.peak_rss]=$(peak_rss_mib "$pid")
    R[$key.dscpu]=$(awk -v d=$((ds_after - ds_before)) -v hz="$CLK_TCK" -v n="$requests" \
        'BEGIN { if (n > 0) printf "%.3f", d * 1000 / hz / n; else print "n/a" }')
    R[$key.busy]=$(awk -v b="$m_before" -v a="$m_after" 'BEGIN {
        split(b, x, " "); split(a, y, " ")
        if (y[2] > x[2]) printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]); else print "n/a" }')
    # What the rest of the machine used meanwhile (busy time minus server, downstream, wrk and
    # interrupts), as a share of the machine's capacity: anything sizeable means the run was
    # disturbed (a few % is kernel threads and this script itself).
    R[$key.other]=$(awk -v b="$m_before" -v a="$m_after" -v s=$((after - before)) \
        -v d=$((ds_after - ds_before)) -v w=$((w_after - w_before)) 'BEGIN {
        split(b, x, " "); split(a, y, " ")
        o = (y[1] - x[1]) - (y[3] - x[3]) - s - d - w; if (o < 0) o = 0
        if (y[2] > x[2]) printf "%.0f", 100 * o / (y[2] - x[2]); else print "n/a" }')

    combine_rounds "$key"

    # Let the sockets of this run settle before the next one.
    sleep 1
}

# After each round of a side: keeps the round's figures (R[key.rN.metric]) and sets R[key.metric] to those of
# all its rounds so far. Counts add up; requests/s, machine load and disturbance are means; p50/p99 the median
# round's (the middle one, the higher middle of an even number); CPU per request over all requests; RSS the
# last round's.
combine_rounds() {
    local key=$1 n=$((${R[$1.rounds]:-0} + 1)) metric i
    R[$key.rounds]=$n
    for metric in requests all_requests rps p50 p99 non2xx sockerr cpu cpums dscpu busy other; do
        R[$key.r$n.$metric]=${R[$key.$metric]}
    done
    ((n > 1)) || return 0
    local -a values
    for metric in requests all_requests non2xx sockerr cpums; do
        R[$key.$metric]=0
        for ((i = 1; i <= n; i++)); do R[$key.$metric]=$((R[$key.$metric] + R[$key.r$i.$metric])); done
    done
    for metric in rps busy other p50 p99 cpu dscpu; do
        values=()
        for ((i = 1; i <= n; i++)); do values+=("${R[$key.r$i.$metric]}:${R[$key.r$i.requests]}"); done
        case $metric in
            rps) R[$key.$metric]=$(printf '%s\n' "${values[@]}" | awk -F: '$1 != "n/a" { s += $1; c++ }
                END { if (c) printf "%.1f", s / c; else print "n/a" }') ;;
            # Whole percents, as one round gives them (print_disturbance compares integers).
            busy | other) R[$key.$metric]=$(printf '%s\n' "${values[@]}" | awk -F: '$1 != "n/a" { s += $1; c++ }
                END { if (c) printf "%.0f", s / c; else print "n/a" }') ;;
            p50 | p99) R[$key.$metric]=$(printf '%s\n' "${values[@]}" | awk -F: '$1 != "n/a" { print $1 }' | sort -g |
                awk '{ v[NR] = $1 } END { if (NR) print v[int(NR / 2) + 1]; else print "n/a" }') ;;
            cpu | dscpu) R[$key.$metric]=$(printf '%s\n' "${values[@]}" | awk -F: '$1 != "n/a" { s += $1 * $2; c += $2 }
                END { if (c) printf "%.3f", s / c; else print "n/a" }') ;;
        esac
    done
}

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

# a - b, for "p99 within 1 ms of the comparison".
difference() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/) printf "%+.2f", a - b; else print "n/a" }'
}

print_row() {
    local label=$1 metric=$2 scenario=$3 with_ratio=$4 l r
    l=${R[$scenario.left.$metric]:--}
    r=${R[$scenario.right.$metric]:--}
    if [[ $with_ratio == yes ]]; then
        printf '  %-24s %12s %12s %10s\n' "$label" "$l" "$r" "$(ratio "$l" "$r")"
    else
        printf '  %-24s %12s %12s %10s\n' "$label" "$l" "$r" ""
    fi
}

# The memory limit of cache_memory: 1.2 x (MaxBytes + idle RSS), in MiB.
cache_memory_limit() {
    awk -v m="$CACHE_MAX_MIB" -v i="${R[cache_memory.left.idle_rss]:-}" 'BEGIN { if (i ~ /^[0-9.]+$/) printf "%.1f", 1.2 * (m + i); else print "n/a" }'
}

# How many times the bodies cache_memory streamed through (warm-up and measured run) fill MaxBytes.
cache_memory_fills() {
    awk -v n="${R[cache_memory.left.all_requests]:-}" -v b="$CACHE_BODY_BYTES" -v m="$CACHE_MAX_MIB" \
        'BEGIN { if (n ~ /^[0-9]+$/) printf "%.1f", n * b / (m * 1048576); else print "n/a" }'
}

# "== scenario: description, connections, duration ==" and, for several rounds, how they were taken.
print_title() {
    local scenario=$1 rounds=${R[$1.left.rounds]:-${R[$1.right.rounds]:-1}} how=""
    if ((rounds > 1)); then
        if [[ -n ${RIGHT_SERVER[$scenario]:-} ]]; then how=", the sides taking turns $rounds times"; else how=", $rounds runs"; fi
    fi
    echo "== $scenario: ${DESCRIPTION[$scenario]}, ${CONNECTIONS[$scenario]} connections, ${DURATION}s (after ${WARMUP}s warm-up)$how =="
}

# cache_memory has one side; its memory is compared with a limit computed from its own idle RSS.
print_cache_memory_table() {
    local scenario=cache_memory row
    echo
    print_title "$scenario"
    echo "   ${LEFT_SERVER[$scenario]} ${LEFT_PATH[$scenario]}?k=<another key per request> (source: /bytes/$CACHE_BODY_BYTES?k={k}," \
        "Cache Ttl 5m, Gateway:Cache:MaxBytes $CACHE_MAX_MIB MiB)"
    if [[ -n ${SKIP[$scenario]:-} ]]; then
        echo "   gateway: ${SKIP[$scenario]}"
        return 0
    fi
    for row in "requests/s:rps" "p50 latency (ms):p50" "p99 latency (ms):p99" "CPU ms / request:cpu" \
        "idle RSS before load (MiB):idle_rss" "RSS after run (MiB):rss" "peak RSS, VmHWM (MiB):peak_rss" \
        "machine CPU busy (%):busy" "  of it other procs (%):other" "requests (measured):requests" \
        "requests (with warm-up):all_requests" "non-2xx responses:non2xx" "socket errors:sockerr"; do
        printf '  %-32s %12s\n' "${row%%:*}" "${R[$scenario.left.${row#*:}]:--}"
    done
    printf '  %-32s %12s\n' "limit 1.2 x (MaxBytes + idle)" "$(cache_memory_limit)"
    printf '  %-32s %12s\n' "MaxBytes filled (requests x body)" "$(cache_memory_fills)x"
    if awk -v f="$(cache_memory_fills)" 'BEGIN { exit !(f ~ /^[0-9.]+$/ && f + 0 < 3) }'; then
        echo "   WARNING: MaxBytes was filled fewer than 3 times; raise BENCH_DURATION or BENCH_CACHE_BODY_BYTES"
    fi
}

print_table() {
    local scenario=$1
    if [[ -z ${RIGHT_SERVER[$scenario]:-} ]]; then
        print_cache_memory_table
        return 0
    fi
    echo
    print_title "$scenario"
    echo "   ${LEFT_SERVER[$scenario]} ${LEFT_PATH[$scenario]} vs ${RIGHT_SERVER[$scenario]} ${RIGHT_PATH[$scenario]}"
    if [[ -n ${SKIP[$scenario]:-} ]]; then
        echo "   ${LEFT_LABEL[$scenario]:-gateway}: ${SKIP[$scenario]}"
    fi
    if [[ -z ${R[$scenario.left.requests]:-} && -z ${R[$scenario.right.requests]:-} ]]; then
        return 0
    fi
    printf '  %-24s %12s %12s %10s\n' "" "${LEFT_LABEL[$scenario]:-gateway}" "${RIGHT_LABEL[$scenario]:-baseline}" "${RATIO_LABEL[$scenario]:-gw/base}"
    print_row "requests/s" rps "$scenario" yes
    print_row "p50 latency (ms)" p50 "$scenario" yes
    print_row "p99 latency (ms)" p99 "$scenario" yes
    print_row "CPU ms / request" cpu "$scenario" yes
    print_row "CPU ms (whole run)" cpums "$scenario" no
    print_row "RSS after run (MiB)" rss "$scenario" yes
    print_row "downstream CPU ms / req" dscpu "$scenario" no
    print_row "machine CPU busy (%)" busy "$scenario" no
    print_row "  of it other procs (%)" other "$scenario" no
    print_row "requests (total)" requests "$scenario" no
    print_row "non-2xx responses" non2xx "$scenario" no
    print_row "socket errors" sockerr "$scenario" no
    if [[ -n ${SCRAPE[$scenario]:-} ]]; then
        print_row "/metrics scrapes ok/all" scrapes "$scenario" no
        print_row "OTLP exports tr/met/log" otlp "$scenario" no
    fi
}

# verdict SCENARIO VALUE OP LIMIT -> PASS, FAIL or the reason the scenario was skipped (OP is <= or >=).
# A target only passes on a clean run of the side under test (and of the comparison when that is the
# same server): non-2xx answers or socket errors/timeouts would flatter throughput and latency (wrk
# leaves timed-out requests out of its percentiles).
verdict() {
    local scenario=$1 value=$2 op=$3 limit=$4 dirty=0
    if [[ -n ${SKIP[$scenario]:-} ]]; then
        echo "${SKIP[$scenario]}"
        return 0
    fi
    [[ ${R[$scenario.left.non2xx]} != 0 || ${R[$scenario.left.sockerr]} != 0 ]] && dirty=1
    if [[ ${LEFT_SERVER[$scenario]} == "${RIGHT_SERVER[$scenario]:-}" ]] \
        && [[ ${R[$scenario.right.non2xx]} != 0 || ${R[$scenario.right.sockerr]} != 0 ]]; then
        dirty=1
    fi
    if ((dirty)); then
        echo "FAIL (gateway run had non-2xx responses or socket errors)"
    elif [[ ! $value =~ ^[+-]?[0-9.]+$ ]]; then
        echo "FAIL (no value)"
    elif awk -v v="$value" -v l="$limit" -v op="$op" 'BEGIN { exit !(op == "<=" ? v + 0 <= l + 0 : v + 0 >= l + 0) }'; then
        echo PASS
    else
        echo FAIL
    fi
}

# target SCENARIO TEXT VALUE-SHOWN VALUE OP LIMIT
target() {
    local shown="($3)" s run=0
    for s in "${SCENARIOS[@]}"; do [[ $s == "$1" ]] && run=1; done
    if ((run == 0)); then
        printf '  %-58s %-18s %s\n' "$2" "" "not run (BENCH_SCENARIOS)"
        return 0
    fi
    [[ -n ${SKIP[$1]:-} ]] && shown=""
    printf '  %-58s %-18s %s\n' "$2" "$shown" "$(verdict "$1" "$4" "$5" "$6")"
}

print_targets() {
    local rps cpu rss p99s p99h pt_rps pt_p99 res_rps ng_cpu h2_p99
    rps=$(ratio "${R[fast.left.rps]:-}" "${R[fast.right.rps]:-}")
    cpu=$(ratio "${R[fast.left.cpu]:-}" "${R[fast.right.cpu]:-}")
    rss=$(ratio "${R[fast.left.rss]:-}" "${R[fast.right.rss]:-}")
    p99s=${R[staggered.left.p99]:-n/a}
    p99h=${R[hang.left.p99]:-n/a}
    pt_rps=$(ratio "${R[passthrough.left.rps]:-}" "${R[passthrough.right.rps]:-}")
    pt_p99=$(difference "${R[passthrough.left.p99]:-}" "${R[passthrough.right.p99]:-}")
    res_rps=$(ratio "${R[resilient.left.rps]:-}" "${R[resilient.right.rps]:-}")
    ng_cpu=$(ratio "${R[nginx.left.cpu]:-}" "${R[nginx.right.cpu]:-}")
    h2_p99=${R[hang_h2c.left.p99]:-n/a}
    local ca_live ca_base cm_rss cm_limit
    ca_live=$(ratio "${R[cached.left.rps]:-}" "${R[cached.right.rps]:-}")
    ca_base=$(ratio "${R[cached_baseline.left.rps]:-}" "${R[cached_baseline.right.rps]:-}")
    cm_rss=${R[cache_memory.left.rss]:-n/a}
    cm_limit=$(cache_memory_limit)
    echo
    echo "== targets =="
    target fast "fast: gateway requests/s >= 1.0x baseline" "${rps}x" "$rps" '>=' 1.0
    target fast "fast: gateway CPU/request <= 0.8x baseline" "${cpu}x" "$cpu" '<=' 0.8
    target fast "fast: gateway RSS after run <= 0.8x baseline" "${rss}x" "$rss" '<=' 0.8
    target staggered "staggered: gateway p99 <= 66 ms" "${p99s} ms" "$p99s" '<=' 66
    target hang "hang: gateway p99 <= 210 ms" "${p99h} ms" "$p99h" '<=' 210
    target passthrough "passthrough: gateway requests/s >= 0.9x plain YARP" "${pt_rps}x" "$pt_rps" '>=' 0.9
    target passthrough "passthrough: gateway p99 within 1 ms of plain YARP" "${pt_p99} ms" "$pt_p99" '<=' 1
    target resilient "resilient: fast_resilient requests/s >= 0.97x fast" "${res_rps}x" "$res_rps" '>=' 0.97
    # Three source calls per request: the extra CPU of one call through retry + breaker, in microseconds.
    local res_us
    res_us=$(awk -v a="${R[resilient.left.cpu]:-}" -v b="${R[resilient.right.cpu]:-}" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/) printf "%.1f", (a - b) * 1000 / 3; else print "n/a" }')
    target resilient "resilient: extra CPU per source call <= 2 us" "${res_us} us" "$res_us" '<=' 2
    target nginx "nginx: gateway CPU/request <= 0.9x baseline" "${ng_cpu}x" "$ng_cpu" '<=' 0.9
    target hang_h2c "hang_h2c: gateway p99 <= 210 ms" "${h2_p99} ms" "$h2_p99" '<=' 210
    target cached "cached: /agg/cached requests/s >= 3x /agg/fast" "${ca_live}x" "$ca_live" '>=' 3
    target cached_baseline "cached_baseline: gateway requests/s >= 1.2x baseline" "${ca_base}x" "$ca_base" '>=' 1.2
    target cache_memory "cache_memory: RSS after run <= 1.2 x (MaxBytes + idle)" "${cm_rss}/${cm_limit} MiB" \
        "$(awk -v r="$cm_rss" -v l="$cm_limit" 'BEGIN { if (r ~ /^[0-9.]+$/ && l ~ /^[0-9.]+$/) printf "%.1f", r - l; else print "n/a" }')" '<=' 0
    local tel_rps
    tel_rps=$(ratio "${R[telemetry.left.rps]:-}" "${R[telemetry.right.rps]:-}")
    target telemetry "telemetry: requests/s with telemetry on (100 % traces) >= 0.9x off" "${tel_rps}x" "$tel_rps" '>=' 0.9
    local td_rps me_rps
    td_rps=$(ratio "${R[traces_default.left.rps]:-}" "${R[traces_default.right.rps]:-}")
    me_rps=$(ratio "${R[metrics.left.rps]:-}" "${R[metrics.right.rps]:-}")
    target traces_default "traces_default: requests/s at the default sampler >= 0.97x off" "${td_rps}x" "$td_rps" '>=' 0.97
    target metrics "metrics: requests/s with Prometheus scraped every 5 s >= 0.98x off" "${me_rps}x" "$me_rps" '>=' 0.98
    local pr_rps pr_cpu pr_rss pr_p99
    pr_rps=$(ratio "${R[production.left.rps]:-}" "${R[production.right.rps]:-}")
    pr_cpu=$(ratio "${R[production.left.cpu]:-}" "${R[production.right.cpu]:-}")
    pr_rss=$(ratio "${R[production.left.rss]:-}" "${R[production.right.rss]:-}")
    pr_p99=$(ratio "${R[production.left.p99]:-}" "${R[production.right.p99]:-}")
    target production "production: gateway requests/s >= 1.1x baseline" "${pr_rps}x" "$pr_rps" '>=' 1.1
    target production "production: gateway CPU/request <= 0.9x baseline" "${pr_cpu}x" "$pr_cpu" '<=' 0.9
    target production "production: gateway RSS after run <= 1.0x baseline" "${pr_rss}x" "$pr_rss" '<=' 1.0
    target production "production: gateway p99 <= 1.0x baseline" "${pr_p99}x" "$pr_p99" '<=' 1.0
}

# The comparison is only fair when nothing else runs: warn about runs where other processes
# (a build, tests, ...) took more than 10% of the machine.
print_disturbance() {
    local scenario side other warned=0
    for scenario in "${SCENARIOS[@]}"; do
        for side in left right; do
            other=${R[$scenario.$side.other]:-}
            if [[ $other =~ ^[0-9]+$ ]] && ((other > 10)); then
                if ((warned == 0)); then
                    echo
                    echo "== WARNING: other processes were busy during some runs; re-run on an idle machine =="
                    warned=1
                fi
                echo "  $scenario / $side: other processes used ${other}% of the machine's CPU"
            fi
        done
    done
}

# Warnings and errors the servers logged during the run (they log at Warning level and above;
# nginx's error log at warn and above).
print_server_logs() {
    local name count pattern
    echo
    echo "== server output =="
    for name in gateway baseline plain_yarp gateway_nginx baseline_nginx gateway_cache gateway_telemetry gateway_traces_default gateway_metrics gateway_production downstream nginx; do
        pattern='^(warn|fail|crit)|Exception'
        [[ $name == nginx ]] && pattern='\[(warn|error|crit|alert|emerg)\]'
        count=$(grep -cE "$pattern" "$WORK/$name.log" 2>/dev/null || true)
        printf '  %-15s %s warning/error lines\n' "$name" "${count:-0}"
        if ((count > 0)); then
            grep -E "$pattern" "$WORK/$name.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/      /'
        fi
    done
    if ((RESILIENCE_REFUSED)); then
        echo "  (the gateways were restarted without the Resilience settings they refused; see *-refused.log)"
    fi
    if [[ -f $WORK/gateway_cache-refused.log ]]; then
        echo "  (gateway_cache refused the response-cache settings and was not started again; see gateway_cache-refused.log)"
    fi
}

print_header() {
    echo
    echo "Gateway load benchmark: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "  machine: $(nproc) CPU(s), $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
        "dotnet $(dotnet --version), $(wrk --version 2>&1 | head -n 1 | awk '{ print $1, $2 }'), $(nginx -v 2>&1 | sed 's|.*: ||')"
    echo "  machine CPU busy before the servers started: ${IDLE_LOAD}% (should be ~0)"
    echo "  wrk -t2 --latency; initial warm-up ${WARMUP_INITIAL}s per server and path, then on until its JIT settles (at most ${WARMUP_SETTLE}s more); downstream, nginx and all servers share this machine;" \
        "CPU and RSS are those of the measured server process only; every ratio is left / right of the same run"
}

# ---------------------------------------------------------------------------------------------
main() {
    require_tools
    require_wrk
    CLK_TCK=$(getconf CLK_TCK)
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gateway-bench.XXXXXX")

    # The soak alone (BENCH_ONLY=soak, or BENCH_SCENARIOS naming only it) needs none of the table's servers.
    if [[ ${BENCH_ONLY:-} == soak || -n ${BENCH_SCENARIOS:-} && -z ${SCENARIOS[*]} && " $BENCH_SCENARIOS " != *" overload "* ]]; then
        sample_idle_load
        soak_run
        soak_print
        return 0
    fi

    if [[ ${BENCH_ONLY:-} == overload ]]; then
        [[ ${BENCH_NO_BUILD:-0} == 1 ]] || { build_one src/Gateway; build_one tests/Benchmarks/Downstream; }
        sample_idle_load
        start_downstream
        overload_run
        overload_print
        return 0
    fi

    build_all
    sample_idle_load
    start_all
    warm_up_all

    local scenario round rounds
    for scenario in "${SCENARIOS[@]}"; do
        rounds=${BENCH_ROUNDS:-${ROUNDS[$scenario]:-1}}
        for ((round = 1; round <= rounds; round++)); do
            # Left first in odd rounds, right first in even ones: a steady drift of the machine favours neither.
            local side
            for side in $( ((round % 2)) && echo left right || echo right left); do
                if will_measure "$scenario" "$side"; then
                    measure "$scenario" "$side"
                fi
            done
        done
    done

    print_header
    for scenario in "${SCENARIOS[@]}"; do
        print_table "$scenario"
    done
    print_targets
    print_disturbance
    print_server_logs

    # Overload runs after the table, unless BENCH_SCENARIOS picked a subset without it.
    if [[ -z ${BENCH_SCENARIOS:-} || " $BENCH_SCENARIOS " == *" overload "* ]]; then
        overload_run
        overload_print
    fi

    # The soak only when named (it takes over 11 minutes), after everything else.
    if [[ " ${BENCH_SCENARIOS:-} " == *" soak "* ]]; then
        soak_run
        soak_print
    fi
}

main "$@"
