#!/usr/bin/env bash
# Load benchmark: the gateway against a plain hand-written aggregator (the baseline).
#
# Usage (from anywhere; the script moves to the repository root itself):
#
#     bash tests/Benchmarks/run.sh
#
# Environment (all optional):
#     BENCH_DURATION=10         seconds of each measured wrk run
#     BENCH_WARMUP=3            seconds of the warm-up run before each measured run
#     BENCH_WARMUP_INITIAL=15   seconds of the one-off warm-up of the downstream and of each server
#                               (JIT tiering needs ~15 s under load to settle; see warm_up_all)
#     BENCH_STARTUP_TIMEOUT=30  seconds a server may take to answer after start
#     BENCH_NO_BUILD=1          skip the three Release builds (use the existing bin/ output)
#     BENCH_KEEP=1              keep the temp dir (generated config, server logs, raw wrk output)
#
# What it does:
#   1. checks that wrk is installed; when it is not and we are root with apt-get, installs it
#      (apt-get update && apt-get install -y wrk), otherwise prints that command and exits 1;
#   2. builds src/Gateway, tests/Benchmarks/Downstream and tests/Benchmarks/Baseline in Release;
#   3. starts the downstream, the gateway (config generated from tests/Benchmarks/gateway.bench.json
#      with the downstream address filled in) and the baseline, each with `dotnet <dll>` on a free
#      127.0.0.1 port, and checks that every aggregate answers 200 before any load;
#   4. warms up the downstream and each server (BENCH_WARMUP_INITIAL), then
#      per scenario (fast / staggered / hang) and per server: warm-up, then a measured
#      `wrk -t2 -cN -dDs --latency`, with the server's CPU time read from /proc/PID/stat just before
#      and after, and its VmRSS read after;
#   5. prints one table per scenario and the targets with PASS/FAIL.
#
# Exit status: 0 when the benchmark ran (whatever PASS/FAIL says: it is a report), non-zero only
# when something could not run (build failure, a server not starting, a non-200 aggregate, ...).
# Every wait is bounded and every process started here is stopped on exit.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
WARMUP_INITIAL=${BENCH_WARMUP_INITIAL:-15}
STARTUP_TIMEOUT=${BENCH_STARTUP_TIMEOUT:-30}

# Scenario -> wrk connections. The staggered scenario needs more connections to keep the
# servers busy, since every aggregate waits at least 60 ms for its slowest source.
SCENARIOS=(fast staggered hang)
declare -A CONNECTIONS=([fast]=64 [staggered]=256 [hang]=64)
TARGETS=(gateway baseline)

GATEWAY_DLL=src/Gateway/bin/Release/net10.0/Gateway.dll
DOWNSTREAM_DLL=tests/Benchmarks/Downstream/bin/Release/net10.0/Gateway.Benchmarks.Downstream.dll
BASELINE_DLL=tests/Benchmarks/Baseline/bin/Release/net10.0/Gateway.Benchmarks.Baseline.dll
CONFIG_TEMPLATE=tests/Benchmarks/gateway.bench.json

declare -A PID=() PORT=()   # per server: process id, port
declare -A R=()             # results, keyed "scenario.target.metric"
WRK_PID=""
WORK=""
IDLE_LOAD="n/a"

log() { printf '[bench] %s\n' "$*" >&2; }

die() {
    printf '[bench] ERROR: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Clean-up: stop every process we started (servers and a possibly running wrk), bounded.
# ---------------------------------------------------------------------------------------------
cleanup() {
    local rc=$? pid name alive i
    trap - EXIT INT TERM
    if ((rc != 0)); then
        log "stopped with exit status $rc; stopping the servers"
    fi
    if [[ -n $WRK_PID ]]; then
        kill -TERM "$WRK_PID" 2>/dev/null || true
    fi
    for name in "${!PID[@]}"; do
        kill -TERM "${PID[$name]}" 2>/dev/null || true
    done
    # Give the servers up to 5 s to shut down gracefully, then kill what is left.
    for ((i = 0; i < 50; i++)); do
        alive=0
        for pid in "${PID[@]}" $WRK_PID; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${PID[@]}" $WRK_PID; do
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
    for tool in dotnet curl sed awk getconf timeout; do
        command -v "$tool" >/dev/null || die "'$tool' is required but not installed"
    done
    [[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "BENCH_DURATION must be a positive number of seconds (got '$DURATION')"
    [[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a number of seconds (got '$WARMUP')"
    [[ $WARMUP_INITIAL =~ ^[0-9]+$ ]] || die "BENCH_WARMUP_INITIAL must be a number of seconds (got '$WARMUP_INITIAL')"
    [[ $STARTUP_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_STARTUP_TIMEOUT must be a positive number (got '$STARTUP_TIMEOUT')"
}

# wrk is the load generator. Installing it is only attempted where that cannot surprise anyone:
# as root with apt-get (CI, containers). Elsewhere we say what to run.
require_wrk() {
    command -v wrk >/dev/null && return 0
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "wrk is not installed; installing it with apt-get (running as root)"
        timeout 300 apt-get update -qq >/dev/null || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq wrk >/dev/null \
            || die "apt-get install -y wrk failed"
        command -v wrk >/dev/null || die "wrk still not found after installing it"
    else
        echo "wrk is not installed. Install it with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y wrk" >&2
        exit 1
    fi
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
    fi
    local dll
    for dll in "$GATEWAY_DLL" "$DOWNSTREAM_DLL" "$BASELINE_DLL"; do
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

# Starts `dotnet <dll> args...` in the background. `dotnet x.dll` hosts the runtime in its own
# process, so $! is the server process itself: that is the PID whose CPU and RSS we read.
start_server() {
    local name=$1 dll=$2
    shift 2
    log "starting $name on 127.0.0.1:${PORT[$name]}"
    ASPNETCORE_ENVIRONMENT=Production DOTNET_ENVIRONMENT=Production \
        dotnet "$dll" "$@" --urls "http://127.0.0.1:${PORT[$name]}" >"$WORK/$name.log" 2>&1 &
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

server_failed() {
    local name=$1 message=$2 status=0 state
    state=$(server_state "$name")
    # If it is gone, say how: an exit code, or a signal (status 128+N) sent by someone else.
    if [[ -z $state || $state == Z ]]; then
        wait "${PID[$name]}" 2>/dev/null || status=$?
        if ((status > 128)); then
            message="$message (killed by signal $((status - 128)): $(kill -l $((status - 128)) 2>/dev/null || echo '?'))"
        else
            message="$message (exit status $status)"
        fi
    fi
    echo "----- last lines of the $name output ($WORK/$name.log) -----" >&2
    tail -n 40 "$WORK/$name.log" >&2 || true
    echo "-----" >&2
    die "$message"
}

# Fails loudly when a server is gone (exited, or killed and not yet reaped: a zombie).
ensure_running() {
    local state
    state=$(server_state "$1")
    if [[ -z $state || $state == Z ]]; then
        server_failed "$1" "$1 is no longer running"
    fi
}

# Waits (bounded) until the server answers anything at all over HTTP on the given path.
wait_ready() {
    local name=$1 path=$2 code deadline=$((SECONDS + STARTUP_TIMEOUT))
    while ((SECONDS < deadline)); do
        ensure_running "$name"
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:${PORT[$name]}$path" || true)
        if [[ -n $code && $code != 000 ]]; then
            return 0
        fi
        sleep 0.2
    done
    server_failed "$name" "$name did not answer on port ${PORT[$name]} within ${STARTUP_TIMEOUT}s"
}

# One request per aggregate must answer 200 with a body that has "data", before any load:
# otherwise we would measure 404s or 500s and call it throughput.
check_aggregate() {
    local name=$1 scenario=$2 url body code
    url="http://127.0.0.1:${PORT[$name]}/agg/$scenario"
    body="$WORK/check-$name-$scenario.json"
    code=$(curl -s -o "$body" -m 10 -w '%{http_code}' "$url" || true)
    if [[ $code != 200 ]]; then
        echo "response body: $(head -c 500 "$body" 2>/dev/null)" >&2
        server_failed "$name" "GET $url answered HTTP ${code:-nothing} instead of 200"
    fi
    grep -q '"data"' "$body" || server_failed "$name" "GET $url answered 200 without a \"data\" member: $(head -c 300 "$body")"
    # In fast and staggered every source answers well within its timeout: errors must be empty.
    if [[ $scenario != hang ]] && ! grep -Eq '"errors"[[:space:]]*:[[:space:]]*\[[[:space:]]*\]' "$body"; then
        log "WARNING: $name /agg/$scenario sample response reports errors: $(grep -o '"errors".\{0,300\}' "$body" | head -c 300)"
    fi
}

start_all() {
    pick_port downstream
    start_server downstream "$DOWNSTREAM_DLL"
    wait_ready downstream /delay/0

    local downstream="http://127.0.0.1:${PORT[downstream]}"

    # The gateway's --config file replaces its appsettings.json: generate it with the real
    # downstream address in place of the __DOWNSTREAM__ placeholder.
    sed "s|__DOWNSTREAM__|$downstream|g" "$CONFIG_TEMPLATE" >"$WORK/gateway.bench.json"
    pick_port gateway
    start_server gateway "$GATEWAY_DLL" --config "$WORK/gateway.bench.json"

    pick_port baseline
    start_server baseline "$BASELINE_DLL" --Downstream "$downstream"

    wait_ready gateway /agg/fast
    wait_ready baseline /agg/fast

    local name scenario
    for name in "${TARGETS[@]}"; do
        for scenario in "${SCENARIOS[@]}"; do
            check_aggregate "$name" "$scenario"
        done
    done
    log "all aggregates answer 200 on gateway and baseline"
}

# Warm-up before anything is measured. With the default tiered JIT and dynamic PGO a server on
# this 2-core box needs ~15 s under full load before its throughput settles (tier-1 code is
# compiled in the background, competing with the load); a few seconds are not enough and would
# make whichever server happens to be colder look up to 40% worse.
# The downstream is shared by both servers: warm it on its own first, so that the first server
# warmed does not pay for it. Then each server gets the same initial warm-up on the fast
# scenario, the one that runs the most code per second.
warm_up_all() {
    local name
    if ((WARMUP_INITIAL == 0)); then
        return 0
    fi
    log "downstream: initial warm-up ${WARMUP_INITIAL}s"
    run_wrk "$WORK/warmup-downstream.txt" 64 "$WARMUP_INITIAL" "http://127.0.0.1:${PORT[downstream]}/delay/0"
    for name in "${TARGETS[@]}"; do
        log "$name: initial warm-up ${WARMUP_INITIAL}s on /agg/fast"
        run_wrk "$WORK/warmup-initial-$name.txt" "${CONNECTIONS[fast]}" "$WARMUP_INITIAL" \
            "http://127.0.0.1:${PORT[$name]}/agg/fast"
        ensure_running "$name"
    done
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

# CPU time (utime + stime) of a process, in clock ticks. The command name (field 2) may hold
# spaces, so fields are counted after its closing parenthesis: utime/stime are fields 14/15.
cpu_ticks() {
    local stat rest
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || die "process $1 is gone"
    rest=${stat##*) }
    local -a f
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12]))
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

rss_mib() {
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# Runs wrk in the background and waits for it, so that an interrupt can stop it from cleanup.
# `timeout` bounds it even if wrk hangs (it should stop by itself after -d).
run_wrk() {
    local out=$1 connections=$2 seconds=$3 url=$4 rc=0
    timeout -k 5 $((seconds + 30)) wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    if ((rc != 0)) || ! grep -q 'requests in' "$out"; then
        cat "$out" >&2
        die "wrk failed (exit $rc) against $url"
    fi
}

# wrk prints latencies as 850.00us, 12.34ms, 1.02s or 1.50m: convert to milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}

measure() {
    local scenario=$1 name=$2 connections=${CONNECTIONS[$1]} pid=${PID[$2]}
    local url="http://127.0.0.1:${PORT[$name]}/agg/$scenario"
    local out="$WORK/wrk-$scenario-$name.txt"

    ensure_running "$name"
    ensure_running downstream

    if ((WARMUP > 0)); then
        log "$scenario / $name: warm-up ${WARMUP}s, $connections connections"
        run_wrk "$WORK/warmup-$scenario-$name.txt" "$connections" "$WARMUP" "$url"
        ensure_running "$name"
    fi

    log "$scenario / $name: measuring ${DURATION}s, $connections connections"
    # Besides the server, note the downstream's CPU and how busy the whole machine was: on a
    # small box a saturated CPU (wrk + downstream + server) is what stretches the tail latency.
    local before after ds_before ds_after m_before m_after w_before w_after
    w_before=$(children_ticks)
    m_before=$(machine_jiffies)
    ds_before=$(cpu_ticks "${PID[downstream]}")
    before=$(cpu_ticks "$pid")
    run_wrk "$out" "$connections" "$DURATION" "$url"
    # A server that died during the run would leave numbers that mean nothing.
    ensure_running "$name"
    ensure_running downstream
    after=$(cpu_ticks "$pid")
    ds_after=$(cpu_ticks "${PID[downstream]}")
    m_after=$(machine_jiffies)
    w_after=$(children_ticks)

    local key="$scenario.$name" requests
    requests=$(awk '/requests in/ { print $1; exit }' "$out")
    R[$key.requests]=$requests
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

    # Let the sockets of this run settle before the next one.
    sleep 1
}

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

print_row() {
    local label=$1 metric=$2 scenario=$3 with_ratio=$4 g b
    g=${R[$scenario.gateway.$metric]}
    b=${R[$scenario.baseline.$metric]}
    if [[ $with_ratio == yes ]]; then
        printf '  %-24s %12s %12s %10s\n' "$label" "$g" "$b" "$(ratio "$g" "$b")"
    else
        printf '  %-24s %12s %12s %10s\n' "$label" "$g" "$b" ""
    fi
}

print_table() {
    local scenario=$1
    echo
    echo "== $scenario: ${CONNECTIONS[$scenario]} connections, ${DURATION}s (after ${WARMUP}s warm-up) =="
    printf '  %-24s %12s %12s %10s\n' "" gateway baseline "gw/base"
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
}

# verdict SCENARIO VALUE OP LIMIT -> PASS or FAIL (OP is <= or >=).
# A target only passes on a clean gateway run: non-2xx answers or socket errors/timeouts would
# flatter throughput and latency (wrk leaves timed-out requests out of its percentiles).
verdict() {
    local scenario=$1 value=$2 op=$3 limit=$4
    if [[ ${R[$scenario.gateway.non2xx]} != 0 || ${R[$scenario.gateway.sockerr]} != 0 ]]; then
        echo "FAIL (gateway run had non-2xx responses or socket errors)"
    elif [[ ! $value =~ ^[0-9.]+$ ]]; then
        echo "FAIL (no value)"
    elif awk -v v="$value" -v l="$limit" -v op="$op" 'BEGIN { exit !(op == "<=" ? v + 0 <= l + 0 : v + 0 >= l + 0) }'; then
        echo PASS
    else
        echo FAIL
    fi
}

print_targets() {
    local rps cpu rss p99s p99h
    rps=$(ratio "${R[fast.gateway.rps]}" "${R[fast.baseline.rps]}")
    cpu=$(ratio "${R[fast.gateway.cpu]}" "${R[fast.baseline.cpu]}")
    rss=$(ratio "${R[fast.gateway.rss]}" "${R[fast.baseline.rss]}")
    p99s=${R[staggered.gateway.p99]}
    p99h=${R[hang.gateway.p99]}
    echo
    echo "== targets =="
    printf '  %-48s %-12s %s\n' "fast: gateway requests/s >= 1.0x baseline" "(${rps}x)" "$(verdict fast "$rps" '>=' 1.0)"
    printf '  %-48s %-12s %s\n' "fast: gateway CPU/request <= 0.9x baseline" "(${cpu}x)" "$(verdict fast "$cpu" '<=' 0.9)"
    printf '  %-48s %-12s %s\n' "fast: gateway RSS after run <= 0.8x baseline" "(${rss}x)" "$(verdict fast "$rss" '<=' 0.8)"
    printf '  %-48s %-12s %s\n' "staggered: gateway p99 <= 66 ms" "(${p99s} ms)" "$(verdict staggered "$p99s" '<=' 66)"
    printf '  %-48s %-12s %s\n' "hang: gateway p99 <= 210 ms" "(${p99h} ms)" "$(verdict hang "$p99h" '<=' 210)"
}

# The comparison is only fair when nothing else runs: warn about runs where other processes
# (a build, tests, ...) took more than 10% of the machine.
print_disturbance() {
    local scenario name other warned=0
    for scenario in "${SCENARIOS[@]}"; do
        for name in "${TARGETS[@]}"; do
            other=${R[$scenario.$name.other]}
            if [[ $other =~ ^[0-9]+$ ]] && ((other > 10)); then
                if ((warned == 0)); then
                    echo
                    echo "== WARNING: other processes were busy during some runs; re-run on an idle machine =="
                    warned=1
                fi
                echo "  $scenario / $name: other processes used ${other}% of the machine's CPU"
            fi
        done
    done
}

# Warnings and errors the servers logged during the run (they log at Warning level and above).
print_server_logs() {
    local name count
    echo
    echo "== server output =="
    for name in gateway baseline downstream; do
        count=$(grep -cE '^(warn|fail|crit)|Exception' "$WORK/$name.log" || true)
        printf '  %-10s %s warning/error lines\n' "$name" "${count:-0}"
        if ((count > 0)); then
            grep -E '^(warn|fail|crit)|Exception' "$WORK/$name.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/      /'
        fi
    done
}

print_header() {
    echo
    echo "Gateway load benchmark: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "  machine: $(nproc) CPU(s), $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
        "dotnet $(dotnet --version), $(wrk --version 2>&1 | head -n 1 | awk '{ print $1, $2 }')"
    echo "  machine CPU busy before the servers started: ${IDLE_LOAD}% (should be ~0)"
    echo "  wrk -t2 --latency; initial warm-up ${WARMUP_INITIAL}s per server; downstream, gateway and baseline share this machine;" \
        "CPU and RSS are those of the measured server process only"
}

# ---------------------------------------------------------------------------------------------
main() {
    require_tools
    require_wrk
    CLK_TCK=$(getconf CLK_TCK)
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gateway-bench.XXXXXX")

    build_all
    sample_idle_load
    start_all
    warm_up_all

    local scenario name
    for scenario in "${SCENARIOS[@]}"; do
        for name in "${TARGETS[@]}"; do
            measure "$scenario" "$name"
        done
    done

    print_header
    for scenario in "${SCENARIOS[@]}"; do
        print_table "$scenario"
    done
    print_targets
    print_disturbance
    print_server_logs
}

main "$@"
