# Soak scenario of tests/Benchmarks/run.sh (sourced by it; uses its helpers and WORK).
#
# The question (issue 12, "Memory proven bounded"): under a long stream of mixed traffic, does the gateway's memory
# stop growing? The driver is the integration test Gateway.IntegrationTests.Soak.SoakTests, the very one CI runs for
# 60 s with generous bounds; here it runs for BENCH_SOAK_SECONDS (600) with the issue's bounds, so that the two cannot
# drift apart. It starts its own redis-server (Gateway:Cache:Redis: the response cache's second level and backplane, a
# shared dataset), a Kestrel downstream and the gateway as a child process (Release build, Gateway:Cache:MaxBytes
# BENCH_SOAK_MAX_MIB), then drives BENCH_SOAK_CONCURRENCY requests in flight, paced to BENCH_SOAK_RATE requests/s, cycling
# through: cached sources with another path value, query value or VaryBy header each time (misses, stored), a hot key
# (hits), a cached source answering 500 and one past its 100 ms timeout (distinct keys, not stored), one answering 404,
# a pass-through route (another path each time) and one past its 100 ms Timeout, a path nothing serves, and a source from
# the shared dataset. Every 10 s it reads the gateway's VmRSS/VmHWM (/proc) and its managed heap (its own /metrics:
# dotnet_gc_last_collection_heap_size_bytes less its fragmentation, before and after a full collection asked for through
# the runtime's diagnostics port, as dotnet-gcdump does: the live heap).
#
# Targets: after the first two minutes the live heap's least-squares slope < 1 % of its mean a minute; peak RSS (VmHWM)
# < MaxBytes + 1.3 x idle RSS (read after the first answers, before any load).
#
# Environment: BENCH_SOAK_SECONDS (600), BENCH_SOAK_RATE (1500 requests/s; 0: as fast as the connections go),
# BENCH_SOAK_CONCURRENCY (32), BENCH_SOAK_MAX_MIB (64, the gateway's default MaxBytes), BENCH_SOAK_BODY_BYTES (8192),
# BENCH_SOAK_ARTIFACTS (where soak.csv, soak.json, soak.txt, gateway.json and gateway.log go; default $WORK/soak, kept
# with BENCH_KEEP=1). BENCH_ONLY=soak or BENCH_SCENARIOS=soak runs only this; it is not part of the default run.

SOAK_SECONDS=${BENCH_SOAK_SECONDS:-600}
SOAK_RATE=${BENCH_SOAK_RATE:-1500}
SOAK_CONCURRENCY=${BENCH_SOAK_CONCURRENCY:-32}
SOAK_MAX_MIB=${BENCH_SOAK_MAX_MIB:-64}
SOAK_BODY_BYTES=${BENCH_SOAK_BODY_BYTES:-8192}
SOAK_DIR=""
SOAK_RC=""

soak_check_settings() {
    [[ $SOAK_SECONDS =~ ^[1-9][0-9]*$ ]] && ((SOAK_SECONDS >= 60)) || die "BENCH_SOAK_SECONDS must be 60 or more (got '$SOAK_SECONDS')"
    [[ $SOAK_RATE =~ ^[0-9]+$ ]] || die "BENCH_SOAK_RATE must be a number of requests/s, 0 for unpaced (got '$SOAK_RATE')"
    [[ $SOAK_CONCURRENCY =~ ^[1-9][0-9]*$ ]] || die "BENCH_SOAK_CONCURRENCY must be a positive number (got '$SOAK_CONCURRENCY')"
    [[ $SOAK_MAX_MIB =~ ^[1-9][0-9]*$ ]] || die "BENCH_SOAK_MAX_MIB must be a positive number of MiB (got '$SOAK_MAX_MIB')"
    [[ $SOAK_BODY_BYTES =~ ^[1-9][0-9]*$ ]] || die "BENCH_SOAK_BODY_BYTES must be a positive number of bytes (got '$SOAK_BODY_BYTES')"
}

soak_run() {
    soak_check_settings
    require_apt_tool redis-server redis-server
    SOAK_DIR=${BENCH_SOAK_ARTIFACTS:-$WORK/soak}
    mkdir -p "$SOAK_DIR"
    SOAK_DIR=$(cd "$SOAK_DIR" && pwd)
    # The test project builds the gateway too (its project reference), in Release here like the other servers.
    [[ ${BENCH_NO_BUILD:-0} == 1 ]] || build_one tests/Gateway.IntegrationTests
    log "soak: ${SOAK_SECONDS}s of mixed traffic (${SOAK_CONCURRENCY} in flight, at most ${SOAK_RATE} requests/s), MaxBytes ${SOAK_MAX_MIB} MiB; artifacts in $SOAK_DIR"
    # After the first two minutes (a third of a shorter run).
    local settle=120
    ((SOAK_SECONDS >= 360)) || settle=$((SOAK_SECONDS / 3))
    SOAK_RC=0
    # The test's own bounds (xunit's result) are the targets; its exit status says only whether they held.
    GATEWAY_SOAK_SECONDS=$SOAK_SECONDS GATEWAY_SOAK_SAMPLE_SECONDS=10 GATEWAY_SOAK_SETTLE_SECONDS=$settle \
        GATEWAY_SOAK_MAX_HEAP_SLOPE=1 GATEWAY_SOAK_RSS_FACTOR=1.3 GATEWAY_SOAK_MAX_MIB=$SOAK_MAX_MIB \
        GATEWAY_SOAK_BODY_BYTES=$SOAK_BODY_BYTES GATEWAY_SOAK_CONCURRENCY=$SOAK_CONCURRENCY GATEWAY_SOAK_RATE=$SOAK_RATE \
        GATEWAY_SOAK_ARTIFACTS=$SOAK_DIR \
        timeout -k 10 $((SOAK_SECONDS + 300)) dotnet test tests/Gateway.IntegrationTests -c Release --no-build --nologo \
        --filter "FullyQualifiedName~Gateway.IntegrationTests.Soak.SoakTests" >"$WORK/soak-test.log" 2>&1 || SOAK_RC=$?
    if [[ ! -f $SOAK_DIR/soak.json ]]; then
        tail -n 40 "$WORK/soak-test.log" >&2
        die "soak: the test ended (exit status $SOAK_RC) before it wrote $SOAK_DIR/soak.json (last 40 lines of its output above)"
    fi
}

soak_print() {
    echo
    echo "== soak: mixed traffic with Redis on, ${SOAK_SECONDS}s (driver: tests/Gateway.IntegrationTests/Soak/SoakTests.cs) =="
    echo "  machine CPU busy before the soak started: ${IDLE_LOAD}% (should be ~0; the driver, Redis, the downstream and the gateway share this machine)"
    sed 's/^/  /' "$SOAK_DIR/soak.txt"
    local heap rss
    heap=$(grep -o '"HeapPlateaus": [a-z]*' "$SOAK_DIR/soak.json" | awk '{ print ($2 == "true") ? "PASS" : "FAIL" }')
    rss=$(grep -o '"RssWithinLimit": [a-z]*' "$SOAK_DIR/soak.json" | awk '{ print ($2 == "true") ? "PASS" : "FAIL" }')
    echo "  targets:"
    printf '    %-58s %s\n' "live heap slope after $(grep -o '"SettleSeconds": [0-9]*' "$SOAK_DIR/soak.json" | awk '{ print $2 }') s < 1 %/min" "$heap"
    printf '    %-58s %s\n' "peak RSS < MaxBytes + 1.3 x idle RSS" "$rss"
    if [[ $SOAK_RC != 0 && $heap == PASS && $rss == PASS ]]; then
        echo "  (the test failed for another reason, exit status $SOAK_RC: see $WORK/soak-test.log; BENCH_KEEP=1 keeps it)"
    fi
    if [[ $SOAK_DIR == "$WORK"/* && ${BENCH_KEEP:-0} != 1 ]]; then
        echo "  series: $SOAK_DIR/soak.csv (removed on exit: BENCH_KEEP=1 or BENCH_SOAK_ARTIFACTS=DIR keeps it)"
    else
        echo "  series: $SOAK_DIR/soak.csv"
    fi
}
