# Overload scenario of tests/Benchmarks/run.sh (sourced by it; uses its helpers, PID/PORT and WORK).
#
# The question (issue 7, "Done when: Overload"): past its knee, does the gateway with
# Gateway:RateLimiting:MaxConcurrentRequests keep serving complete answers at its peak rate and latency,
# and refuse the excess fast, instead of queueing everything (every answer slow, memory growing)?
#
#   1. knee: a gateway on /agg/fast with the downstream caps out of the way (clusters a/b/c MaxConcurrency
#      and MaxQueue 100000, no MaxConcurrentRequests) is driven at each of BENCH_OVERLOAD_STEPS connections
#      (default 64 128 256 512 1024 2048, ascending): 200s per second, their p50/p99, RSS after each step. The peak
#      is the highest 200s/s; the knee is the fewest connections reaching 95 % of it (more connections
#      past it add waiting, not answers). Then the same gateway at 4 x the knee's connections: the
#      reference of "nothing is shed".
#   2. shed: a fresh gateway with MaxConcurrentRequests = the knee's connections (in a closed loop each
#      connection has one request in flight), warmed at the knee, driven at 4 x the knee's connections by
#      clients that honour the 503's Retry-After (retry-after.lua). It takes turns (BENCH_OVERLOAD_ROUNDS rounds,
#      the order swapped every other round) with the uncapped gateway at the knee's connections (at_knee) and,
#      when the peak step had more, at the peak's (at_peak), all driven through the same script, so that every
#      figure a target compares comes from the same minutes: 200s per second vs the best of at_knee / at_peak
#      (target >= 0.9x), p99 of the 200s vs at_knee's (<= 1.5x), latency of the 503s (a few ms: p99 <= 10 ms),
#      RSS after vs the knee step's (<= 1.5x).
#   3. storm: the same gateway, the same connections, once after the rounds, clients that ignore Retry-After and
#      resend at once (plain wrk): the worst case, reported beside the targets, not judged by them. Each refused
#      connection is back within a round trip, so refusals take as much CPU as the box has left (README: Overload).
#
# Load: wrk at the run's connections (answers/s, non-2xx count) plus a latency probe of BENCH_OVERLOAD_PROBE
# connections with hey -o csv (one line per answer with its status and duration, so that 200s and 503s are
# timed apart); see overload_measure. The probe cannot wait on Retry-After (hey resends at once): its 503s are a
# small storm of its own, counted in the 503s per second. p50/p99 of a run measured in rounds are those of all
# its probe answers together.
#
# Environment: BENCH_OVERLOAD_STEPS ("64 128 256 512 1024 2048"), BENCH_OVERLOAD_FACTOR (4), BENCH_OVERLOAD_PROBE (8),
# BENCH_OVERLOAD_ROUNDS (3); BENCH_DURATION,
# BENCH_WARMUP and BENCH_WARMUP_INITIAL as for the other scenarios. BENCH_ONLY=overload runs only this.

OVERLOAD_STEPS=${BENCH_OVERLOAD_STEPS:-"64 128 256 512 1024 2048"}
OVERLOAD_FACTOR=${BENCH_OVERLOAD_FACTOR:-4}
OVERLOAD_PROBE=${BENCH_OVERLOAD_PROBE:-8}
OVERLOAD_ROUNDS=${BENCH_OVERLOAD_ROUNDS:-3}
declare -A OV=()            # overload results: "peak", "knee", "peak_connections" and "run.metric" (run: a step's
                            # connection count, uncapped, at_knee, at_peak, shed, storm)
OVERLOAD_SKIP=""

overload_check_settings() {
    local c
    for c in $OVERLOAD_STEPS; do
        [[ $c =~ ^[1-9][0-9]*$ ]] || die "BENCH_OVERLOAD_STEPS must be connection counts (got '$OVERLOAD_STEPS')"
    done
    [[ $OVERLOAD_FACTOR =~ ^[1-9][0-9]*$ ]] || die "BENCH_OVERLOAD_FACTOR must be a positive number (got '$OVERLOAD_FACTOR')"
    [[ $OVERLOAD_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_OVERLOAD_ROUNDS must be a positive number (got '$OVERLOAD_ROUNDS')"
}

# Thousands of sockets in hey and in the gateway: raise the open-file limit for this shell and what it starts.
overload_raise_file_limit() {
    local hard
    hard=$(ulimit -Hn)
    if [[ $hard == unlimited ]] || ((hard >= 65536)); then
        ulimit -n 65536
    else
        ulimit -n "$hard"
    fi
    log "overload: open-file limit $(ulimit -n)"
}

# The generated gateway config with the downstream caps out of the way and, when given, MaxConcurrentRequests.
overload_config() {
    local out=$1 max=${2:-}
    require_apt_tool jq jq
    write_gateway_config "$out.template" "http://127.0.0.1:${PORT[downstream]}" "http://127.0.0.1:${PORT[downstream_h2c]}"
    jq --argjson max "${max:-0}" '
        .Gateway.Downstreams |= with_entries(.value.MaxConcurrency = 100000 | .value.MaxQueue = 100000)
        | if $max > 0 then .Gateway.RateLimiting = { MaxConcurrentRequests: $max } else . end' \
        "$out.template" >"$out"
}

overload_start_gateway() {
    local name=$1 max=${2:-}
    overload_config "$WORK/$name.bench.json" "$max"
    pick_port "$name"
    start_server "$name" "$GATEWAY_DLL" --config "$WORK/$name.bench.json"
    wait_ready "$name" /agg/fast may_exit && return 0
    return 1
}

overload_stop() {
    local name=$1 pid=${PID[$1]} i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "PID[$name]"
}

# Runs hey in the background (so that cleanup can stop it) and waits for it; bounded by timeout.
run_hey() {
    local out=$1 connections=$2 seconds=$3 url=$4 rc=0
    timeout -k 5 $((seconds + 60)) hey -z "${seconds}s" -c "$connections" -t 10 -o csv "$url" >"$out" 2>"$out.err" &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    local first=""
    read -r first <"$out" || true
    if ((rc != 0)) || [[ $first != response-time* ]]; then
        cat "$out.err" >&2
        die "hey failed (exit $rc) against $url"
    fi
}

# Percentile (50, 99) of a file of numbers, in milliseconds from seconds; "n/a" when empty.
overload_percentile() {
    local file=$1 p=$2 n
    n=$(wc -l <"$file")
    if ((n == 0)); then
        echo n/a
        return 0
    fi
    # awk reads to the end: an early exit would break sort's pipe (SIGPIPE, fatal under pipefail).
    sort -g "$file" | awk -v n="$n" -v p="$p" 'BEGIN { rank = int((n * p + 99) / 100); if (rank < 1) rank = 1 }
        NR == rank { v = $1 } END { printf "%.1f", v * 1000 }'
}

# One measured run for BENCH_DURATION at the given connections; results in OV["run.*"]. The load is wrk (the
# connections given): answers/s and how many were not 2xx. Alongside it a probe of OVERLOAD_PROBE connections with
# hey -o csv, started a second in and stopped a second early, times the 200s and the 503s apart (wrk's latency
# summary mixes them, and a wrk Lua script cannot time a response): its requests wait in the same queues.
# A closed-loop hey at thousands of connections costs several times wrk's CPU per request on the same two cores,
# and a shed 503 comes straight back as a new request: the load generator, not the gateway, would set the figures.
overload_measure() {
    local run=$1 name=$2 connections=$3 script=${4:-}
    local round=$((${OV[$run.rounds]:-0} + 1))
    local csv="$WORK/overload-$run-$round.csv" txt="$WORK/overload-$run-$round.txt" all="$WORK/overload-$run"
    local url="http://127.0.0.1:${PORT[$name]}/agg/fast"
    local -a with_script=()
    [[ -z $script ]] || with_script=(-s "$script")
    ensure_running "$name"
    if ((WARMUP > 0)); then
        run_wrk "$WORK/overload-warmup-$run.txt" "$connections" "$WARMUP" "$url" "$script"
    fi
    log "overload: $run (round $round), $connections connections (wrk${script:+ -s ${script##*/}}) + $OVERLOAD_PROBE (hey probe), ${DURATION}s"
    local rc=0 probe_seconds=$((DURATION > 4 ? DURATION - 2 : DURATION))
    timeout -k 5 $((DURATION + 30)) wrk -t2 -c"$connections" -d"${DURATION}s" --latency "${with_script[@]}" "$url" >"$txt" 2>&1 &
    local load=$!
    sleep 1
    run_hey "$csv" "$OVERLOAD_PROBE" "$probe_seconds" "$url"
    wait "$load" || rc=$?
    if ((rc != 0)) || ! grep -q 'requests in' "$txt"; then
        cat "$txt" >&2
        die "wrk failed (exit $rc) against $url"
    fi
    ensure_running "$name"
    local requests non2xx
    requests=$(awk '/requests in/ { print $1; exit }' "$txt")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF; found = 1 } END { if (!found) print 0 }' "$txt")
    # Columns: response-time (s), DNS+dialup, DNS, request-write, response-delay, response-read, status, offset.
    awk -F, -v ok="$csv.200" -v shed="$csv.503" 'NR > 1 {
            if ($7 == 200) { n200++; print $1 > ok } else if ($7 == 503) { n503++; print $1 > shed } else other++ }
        END { printf "%d %d %d\n", n200, n503, other }' "$csv" >"$csv.counts"
    touch "$csv.200" "$csv.503"
    local n200 n503 other
    read -r n200 n503 other <"$csv.counts"
    # A run measured in several rounds (interleaved with another) adds up: answers/s over all its rounds,
    # percentiles over all its probe answers, RSS after its last round.
    cat "$csv.200" >>"$all.200"
    cat "$csv.503" >>"$all.503"
    OV[$run.rounds]=$round
    OV[$run.connections]=$connections
    OV[$run.ok_total]=$((${OV[$run.ok_total]:-0} + requests - non2xx))
    OV[$run.shed_total]=$((${OV[$run.shed_total]:-0} + non2xx))
    # Answers/s from wrk (the load); 503s/s wrk's non-2xx plus the probe's 503s (the probe says whether anything
    # else came back).
    OV[$run.ok_rps]=$((OV[$run.ok_total] / (DURATION * round)))
    OV[$run.probe_503]=$((${OV[$run.probe_503]:-0} + n503))
    OV[$run.shed_rps]=$((OV[$run.shed_total] / (DURATION * round) + OV[$run.probe_503] / (probe_seconds * round)))
    OV[$run.other]=$((${OV[$run.other]:-0} + other))
    OV[$run.ok_p50]=$(overload_percentile "$all.200" 50)
    OV[$run.ok_p99]=$(overload_percentile "$all.200" 99)
    OV[$run.shed_p50]=$(overload_percentile "$all.503" 50)
    OV[$run.shed_p99]=$(overload_percentile "$all.503" 99)
    OV[$run.probe_200]=$((${OV[$run.probe_200]:-0} + n200))
    OV[$run.probe]="${OV[$run.probe_200]}/${OV[$run.probe_503]}"
    OV[$run.rss]=$(rss_mib "${PID[$name]}")
}

overload_run() {
    overload_check_settings
    require_apt_tool hey hey
    overload_raise_file_limit
    if ! overload_start_gateway gateway_overload; then
        OVERLOAD_SKIP="gateway_overload stopped at start ($(exit_description gateway_overload)); see its log"
        return 0
    fi
    if ((WARMUP_INITIAL > 0)); then
        log "gateway_overload: initial warm-up ${WARMUP_INITIAL}s on /agg/fast"
        run_wrk "$WORK/overload-warmup-initial.txt" 256 "$WARMUP_INITIAL" "http://127.0.0.1:${PORT[gateway_overload]}/agg/fast"
    fi
    local c peak=0 peak_connections="" knee=""
    for c in $OVERLOAD_STEPS; do
        overload_measure "$c" gateway_overload "$c"
        if ((${OV[$c.ok_rps]} > peak)); then peak=${OV[$c.ok_rps]} peak_connections=$c; fi
    done
    for c in $OVERLOAD_STEPS; do
        if [[ -z $knee ]] && ((${OV[$c.ok_rps]} * 100 >= peak * 95)); then knee=$c; fi
    done
    OV[peak]=$peak
    OV[peak_connections]=$peak_connections
    OV[knee]=$knee
    overload_measure uncapped gateway_overload $((knee * OVERLOAD_FACTOR))

    if ! overload_start_gateway gateway_shed "$knee"; then
        overload_stop gateway_overload
        if grep -q "unknown setting 'RateLimiting'" "$WORK/gateway_shed.log"; then
            OVERLOAD_SKIP="gateway has no Gateway:RateLimiting:MaxConcurrentRequests (issue 7 item 6)"
        else
            OVERLOAD_SKIP="gateway_shed stopped at start ($(exit_description gateway_shed)); see its log"
        fi
        unset 'PID[gateway_shed]'
        return 0
    fi
    if ((WARMUP_INITIAL > 0)); then
        log "gateway_shed: initial warm-up ${WARMUP_INITIAL}s at the knee ($knee connections)"
        run_wrk "$WORK/overload-shed-warmup-initial.txt" "$knee" "$WARMUP_INITIAL" "http://127.0.0.1:${PORT[gateway_shed]}/agg/fast"
    fi
    # The targets compare the shed runs with the uncapped gateway measured in the same minutes: on a shared machine
    # the speed of the whole box drifts by more than the margins between one step and the next. Every run of the
    # rounds goes through the same wrk script (its response() costs wrk the same whether or not 503s come back).
    local round script=tests/Benchmarks/retry-after.lua run
    local -a runs=(at_knee shed)
    ((peak_connections == knee)) || runs=(at_knee at_peak shed)
    for ((round = 1; round <= OVERLOAD_ROUNDS; round++)); do
        for run in $( ((round % 2)) && echo "${runs[@]}" || printf '%s\n' "${runs[@]}" | tac); do
            case $run in
                at_knee) overload_measure at_knee gateway_overload "$knee" "$script" ;;
                at_peak) overload_measure at_peak gateway_overload "$peak_connections" "$script" ;;
                shed) overload_measure shed gateway_shed $((knee * OVERLOAD_FACTOR)) "$script" ;;
            esac
        done
    done
    overload_stop gateway_overload
    overload_measure storm gateway_shed $((knee * OVERLOAD_FACTOR))
    overload_stop gateway_shed
}

# "PASS"/"FAIL" of value <= or >= limit (awk: values may be decimals; n/a fails).
overload_verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (v == "n/a" || l == "n/a" || l == "") { print "n/a"; exit }
        ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 >= l + 0); print ok ? "PASS" : "FAIL" }'
}

overload_print() {
    echo
    echo "== overload: /agg/fast, downstream caps out of the way (MaxConcurrency/MaxQueue 100000); wrk load + ${OVERLOAD_PROBE}-connection hey latency probe, ${DURATION}s per run =="
    if [[ -n $OVERLOAD_SKIP && -z ${OV[knee]:-} ]]; then
        echo "  skipped: $OVERLOAD_SKIP"
        return 0
    fi
    printf '  %-34s %11s %9s %9s %9s %11s %11s %7s %10s %11s\n' run "200s/s" "p50 200" "p99 200" "503s/s" "p50 503" "p99 503" other "RSS after" "probe 200/503"
    local run label
    for run in $OVERLOAD_STEPS uncapped at_knee at_peak shed storm; do
        [[ -n ${OV[$run.connections]:-} ]] || continue
        case $run in
            uncapped) label="no limit, ${OV[$run.connections]} connections" ;;
            at_knee | at_peak) label="no limit, ${OV[$run.connections]} c., ${OV[$run.rounds]} rounds" ;;
            shed) label="max ${OV[knee]}, ${OV[$run.connections]} c., ${OV[$run.rounds]} rounds" ;;
            storm) label="max ${OV[knee]}, ${OV[$run.connections]} c., storm" ;;
            *) label="no limit, $run connections" ;;
        esac
        printf '  %-34s %11s %9s %9s %9s %11s %11s %7s %10s %11s\n' "$label" "${OV[$run.ok_rps]}" "${OV[$run.ok_p50]} ms" "${OV[$run.ok_p99]} ms" \
            "${OV[$run.shed_rps]}" "${OV[$run.shed_p50]} ms" "${OV[$run.shed_p99]} ms" "${OV[$run.other]}" "${OV[$run.rss]} MiB" "${OV[$run.probe]}"
    done
    local knee=${OV[knee]}
    echo "  peak ${OV[peak]} answers/s; knee at $knee connections (fewest reaching 95 % of the peak)"
    if ((${OV[uncapped.ok_rps]:-0} * 100 > ${OV[peak]} * 105)); then
        echo "  WARNING: 4 x the knee answered more than the peak of the steps: the steps stop short of the real knee;" \
            "add larger ones to BENCH_OVERLOAD_STEPS"
    fi
    if [[ -n $OVERLOAD_SKIP ]]; then
        echo "  shed: skipped: $OVERLOAD_SKIP"
        return 0
    fi
    # The peak of the rounds: the better of the uncapped gateway at the knee's and at the peak step's connections.
    local peak_rps=${OV[at_knee.ok_rps]}
    if [[ -n ${OV[at_peak.ok_rps]:-} ]] && ((OV[at_peak.ok_rps] > peak_rps)); then peak_rps=${OV[at_peak.ok_rps]}; fi
    local ratio p99_ratio rss_ratio
    ratio=$(ratio "${OV[shed.ok_rps]}" "$peak_rps")
    p99_ratio=$(ratio "${OV[shed.ok_p99]}" "${OV[at_knee.ok_p99]}")
    rss_ratio=$(ratio "${OV[shed.rss]}" "${OV[$knee.rss]}")
    echo "  targets at $((knee * OVERLOAD_FACTOR)) connections with MaxConcurrentRequests $knee, clients honouring Retry-After," \
        "against the uncapped gateway in the same rounds (peak $peak_rps answers/s):"
    printf '    %-44s %8s   %s\n' "200s/s vs the peak >= 0.9x" "$ratio" "$(overload_verdict "$ratio" '>=' 0.9)"
    printf '    %-44s %8s   %s\n' "p99 of the 200s vs the knee's <= 1.5x" "$p99_ratio" "$(overload_verdict "$p99_ratio" '<=' 1.5)"
    printf '    %-44s %8s   %s\n' "p99 of the 503s <= 10 ms (a few ms)" "${OV[shed.shed_p99]}" "$(overload_verdict "${OV[shed.shed_p99]}" '<=' 10)"
    printf '    %-44s %8s   %s\n' "RSS after vs the knee step's <= 1.5x" "$rss_ratio" "$(overload_verdict "$rss_ratio" '<=' 1.5)"
    if [[ -n ${OV[storm.connections]:-} ]]; then
        echo "  storm (clients ignoring Retry-After, one run after the rounds; not judged by the targets): 200s/s" \
            "$(ratio "${OV[storm.ok_rps]}" "$peak_rps")x the peak, p99 of the 200s $(ratio "${OV[storm.ok_p99]}" "${OV[at_knee.ok_p99]}")x" \
            "the knee's, p99 of the 503s ${OV[storm.shed_p99]} ms, ${OV[storm.shed_rps]} 503s/s"
    fi
}
