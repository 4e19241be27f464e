#!/usr/bin/env bash
# Where one aggregated request's CPU goes, stage by stage: the gateway under wrk load, sampled with perf.
#
# Usage (from anywhere; about 2 minutes with the builds):
#
#     bash tests/Benchmarks/profile.sh                 # the production scenario's gateway (every feature on)
#     PROFILE_CONFIG=fast bash tests/Benchmarks/profile.sh   # the benchmark's plain gateway (features off)
#     PROFILE_CONFIG=fast PROFILE_PATH=/proxy/delay/0 bash tests/Benchmarks/profile.sh   # a pass-through request
#     PROFILE_CONFIG=plainyarp bash tests/Benchmarks/profile.sh   # the same request through plain YARP, to compare with
#
# It builds the gateway and the benchmark downstream in Release, starts both on free 127.0.0.1 ports (the gateway with
# DOTNET_PerfMapEnabled=1, so that perf can name JIT-compiled methods; for `production` also with OTLP to the
# downstream's sink at the default sampler), warms the gateway up with wrk on /agg/fast, then records it with
# `perf record -F 999 -g` for PROFILE_SECONDS (15) while wrk (one thread, 64 connections) keeps it busy.
#
# The table attributes each sample to the stage that owns the function it was taken in (its self time: a memmove
# in the JSON writer counts as "runtime native", not as the envelope), by namespace, and gives each stage's share and
# its microseconds of CPU per request (the gateway's CPU over the run, from /proc/PID/stat, divided by wrk's count).
# PROFILE_ALLOCATIONS=1 measures instead the bytes allocated per request (dotnet-counters, no perf): exact where CPU is
# noisy, so the figure to compare a change by.
# PROFILE_KEEP=1 keeps perf.data and the folded report in the temp dir (printed), for a flame graph.
# Needs perf (Debian: linux-perf) and wrk; installs them with apt-get when missing and run as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

CONFIG=${PROFILE_CONFIG:-production}
SECONDS_RECORDED=${PROFILE_SECONDS:-15}
WARMUP=${PROFILE_WARMUP:-20}
[[ $CONFIG == production || $CONFIG == fast || $CONFIG == plainyarp ]] ||
    { echo "PROFILE_CONFIG must be production, fast or plainyarp (got '$CONFIG')" >&2; exit 2; }
# Plain YARP (tests/Benchmarks/PlainYarp) has only the pass-through route: the benchmark's comparison for it.
[[ $CONFIG == plainyarp ]] && PROFILE_PATH=${PROFILE_PATH:-/proxy/delay/0}

log() { printf '[profile] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

ALLOCATIONS=${PROFILE_ALLOCATIONS:-0}
missing=()
[[ $ALLOCATIONS == 1 ]] || command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if ((${#missing[@]})); then
    [[ $(id -u) == 0 ]] || die "missing: ${missing[*]} (install them, or run as root)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ ${PROFILE_KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
    done
    die "no free port"
}

wait_ok() {
    local url=$1
    for _ in $(seq 1 150); do
        [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true) == 200 ]] && return 0
        sleep 0.2
    done
    die "$url did not answer 200 within 30 s"
}

# shellcheck source=proc.sh
source tests/Benchmarks/proc.sh

cpu_ticks() { stat_ticks "$(cat "/proc/$1/stat")"; }

log "building (Release)"
for project in src/Gateway tests/Benchmarks/Downstream tests/Benchmarks/PlainYarp; do
    dotnet build "$project" -c Release --nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; die "build of $project failed"; }
done

DS_PORT=$(free_port)
DS_H2C_PORT=$(free_port)
dotnet tests/Benchmarks/Downstream/bin/Release/net10.0/Gateway.Benchmarks.Downstream.dll --Port "$DS_PORT" --H2cPort "$DS_H2C_PORT" >"$WORK/downstream.log" 2>&1 &
PIDS+=($!)
downstream="http://127.0.0.1:$DS_PORT"
wait_ok "$downstream/delay/0"

GW_PORT=$(free_port)
config="$WORK/gateway.json"
# W^X double-maps JIT code (memfd:doublemapper), where perf cannot find the perf map's symbols.
env=(ASPNETCORE_ENVIRONMENT=Production DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
# PROFILE_ENV="NAME=value ..." adds variables of your own (a runtime knob to compare, say).
read -r -a extra_env <<<"${PROFILE_ENV:-}"
env+=("${extra_env[@]}")
header=()
if [[ $CONFIG == production ]]; then
    sed "s|__DOWNSTREAM__|$downstream|g" tests/Benchmarks/gateway.production.bench.json >"$config"
    env+=(OTEL_EXPORTER_OTLP_ENDPOINT="$downstream" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_SERVICE_NAME=gateway-profile)
    header=(-H "X-Request-Id: profile-0001")
else
    sed "s|__DOWNSTREAM__|$downstream|g; s|__DOWNSTREAM_H2C__|http://127.0.0.1:$DS_H2C_PORT|g" tests/Benchmarks/gateway.bench.json >"$config"
fi
server=src/Gateway/bin/Release/net10.0/Gateway.dll
[[ $CONFIG == plainyarp ]] && server=tests/Benchmarks/PlainYarp/bin/Release/net10.0/Gateway.Benchmarks.PlainYarp.dll
env "${env[@]}" dotnet "$server" --urls "http://127.0.0.1:$GW_PORT" --config "$config" >"$WORK/gateway.log" 2>&1 &
GW_PID=$!
PIDS+=("$GW_PID")
url="http://127.0.0.1:$GW_PORT${PROFILE_PATH:-/agg/fast}"
wait_ok "$url"

log "warm-up ${WARMUP}s ($CONFIG)"
wrk -t1 -c64 -d"${WARMUP}s" "${header[@]}" "$url" >/dev/null
# Then on, 5 s at a time (at most PROFILE_WARMUP_SETTLE, 45 s), while the tiering JIT thread takes more than 1 % of a
# core: profiled before it settles, the JIT is several microseconds of every request (run.sh does the same).
settle_load() { wrk -t1 -c64 -d5s "${header[@]}" "$url" >/dev/null; }
jit_settle "$GW_PID" "${PROFILE_WARMUP_SETTLE:-45}" settle_load
log "JIT $JIT_STATE after ${JIT_WAITED}s more"

if [[ $ALLOCATIONS == 1 ]]; then
    # Bytes the GC handed out per request: the runtime's own counter, summed over the measured run (what the
    # process allocates while idle, some 30 KB/s, is in it too). Exact, unlike CPU on a shared machine: a
    # change's allocations can be compared across runs and machines.
    counters=$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")
    [[ -x $counters ]] || die "dotnet-counters is missing: dotnet tool install -g dotnet-counters"
    "$counters" collect -p "$GW_PID" --counters 'System.Runtime[dotnet.gc.heap.total_allocated]' --refresh-interval 1 \
        --duration "00:00:00:$((SECONDS_RECORDED + 6))" --format csv -o "$WORK/allocations.csv" >"$WORK/counters.log" 2>&1 &
    counters_pid=$!
    sleep 4
    wrk -t1 -c64 -d"${SECONDS_RECORDED}s" "${header[@]}" "$url" >"$WORK/wrk.txt"
    wait "$counters_pid" || { cat "$WORK/counters.log" >&2; die "dotnet-counters failed"; }
    requests=$(awk '/requests in/ { print $1; exit }' "$WORK/wrk.txt")
    echo
    echo "== bytes allocated per ${PROFILE_PATH:-/agg/fast} request ($CONFIG; wrk -t1 -c64, $requests requests) =="
    awk -F, -v n="$requests" 'NR > 1 { sum += $NF } END { printf "  %.0f B per request\n", sum / n }' "$WORK/allocations.csv"
    exit 0
fi

log "recording ${SECONDS_RECORDED}s"
before=$(cpu_ticks "$GW_PID")
perf record -F 999 -g -p "$GW_PID" -o "$WORK/perf.data" -- sleep "$((SECONDS_RECORDED + 1))" >"$WORK/perf-record.log" 2>&1 &
perf_pid=$!
sleep 0.5
wrk -t1 -c64 -d"${SECONDS_RECORDED}s" "${header[@]}" "$url" >"$WORK/wrk.txt"
after=$(cpu_ticks "$GW_PID")
wait "$perf_pid" || { cat "$WORK/perf-record.log" >&2; die "perf record failed"; }
requests=$(awk '/requests in/ { print $1; exit }' "$WORK/wrk.txt")
rps=$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.txt")
us_per_request=$(awk -v d=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')

# Self time per symbol: "  12.34%  Gateway.dll  [.] Gateway.Aggregation.FanOutExecutor::..." (perf's own column layout).
perf report -i "$WORK/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null >"$WORK/report.txt"
if [[ ${PROFILE_KEEP:-0} == 1 ]]; then
    perf script -i "$WORK/perf.data" >"$WORK/perf.script" 2>/dev/null || true
fi

echo
echo "== where the CPU of one ${PROFILE_PATH:-/agg/fast} request goes ($CONFIG; $rps requests/s, ${us_per_request} us CPU per request, wrk -t1 -c64) =="
awk -v us="$us_per_request" '
    function stage(dso, sym) {
        if (dso ~ /kernel/ || sym ~ /^\[k\]/) return "kernel (sockets, scheduling)"
        if (sym ~ /Polly|BreakerStep|RetryBudget|DownstreamResilience|DownstreamInvoker::(Enter|Exit)Pipeline/) return "Polly (retry, breaker)"
        if (sym ~ /OpenTelemetry|System\.Diagnostics\.Activity|System\.Diagnostics\.Metrics|Gateway\.Telemetry|SourceActivities|AttemptActivities|Google\.Protobuf|Prometheus/) return "telemetry"
        if (sym ~ /Gateway\.Limits|RateLimiting|RateLimiter/) return "inbound limits"
        if (sym ~ /Gateway\.Logging|Microsoft\.Extensions\.Logging|RequestId/) return "request id, logging"
        if (sym ~ /EnvelopeWriter|System\.Text\.Json|ResponseBody|JsonField|Utf8Json/) return "envelope (JSON)"
        if (sym ~ /FanOutExecutor|DownstreamInvoker|ConcurrencyLimiter|AggregateEndpoint|AggregatePlan|PathTemplate|HeaderPropagation|DownstreamCall/) return "fan-out, limiter"
        if (sym ~ /System\.Net\.Http|System\.Net\.Sockets|DownstreamClient|Yarp\.|System\.Net\.Security/) return "transport (HttpClient, sockets)"
        if (sym ~ /Microsoft\.AspNetCore\.Server\.Kestrel|System\.IO\.Pipelines|Microsoft\.AspNetCore\.Connections/) return "Kestrel"
        if (sym ~ /Microsoft\.AspNetCore\.Routing|Microsoft\.AspNetCore\.Hosting|Microsoft\.AspNetCore\.Http|Microsoft\.AspNetCore\.Builder/) return "hosting, routing"
        if (sym ~ /gc_heap|GCHeap|WKS::|SVR::|GCToEE|Allocat|JIT_New|memset/) return "GC, allocation"
        if (sym ~ /System\.Threading|System\.Runtime\.CompilerServices|ThreadPool|AsyncTaskMethodBuilder|ValueTask/) return "thread pool, async"
        if (dso ~ /libcoreclr|libclrjit|libSystem|libc|ld-linux|libstdc/) return "runtime native (JIT, stubs, memmove)"
        return "other managed"
    }
    /^ *[0-9.]+%/ {
        pct = $1; sub(/%/, "", pct)
        dso = $2
        sym = $0; sub(/^ *[0-9.]+% +[^ ]+ +/, "", sym)
        s = stage(dso, sym); share[s] += pct; total += pct
    }
    END {
        printf "  %-38s %8s %12s\n", "stage", "share", "us/request"
        n = 0
        for (s in share) order[++n] = s
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (share[order[j]] > share[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
        for (i = 1; i <= n; i++) printf "  %-38s %7.1f%% %12.1f\n", order[i], share[order[i]] * 100 / total, us * share[order[i]] / total
        printf "  %-38s %7.1f%% %12.1f\n", "total", 100, us
    }' "$WORK/report.txt"
echo
echo "  top functions (self):"
grep -E '^ *[0-9.]+%' "$WORK/report.txt" | head -n 15 | sed 's/^/  /' | cut -c1-160
