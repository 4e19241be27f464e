# Sourced by run.sh and profile.sh: CPU time read from /proc, in clock ticks.

# utime + stime of a /proc/PID/stat (or /proc/PID/task/TID/stat) line. The command name (field 2) may hold spaces,
# so fields are counted after its closing parenthesis: utime/stime are fields 14/15.
stat_ticks() {
    local rest=${1##*) }
    local -a f
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12]))
}

# CPU ticks of a .NET process's tiered-compilation thread ("Tiered Com..."; 0 while it has none: the runtime ends
# it when idle and starts a new one, counting from 0, when methods are called often enough again).
jit_ticks() {
    local task stat
    for task in /proc/"$1"/task/*; do
        [[ $(cat "$task/comm" 2>/dev/null) == ".NET Tiered Com"* ]] || continue
        stat=$(cat "$task/stat" 2>/dev/null) || continue
        stat_ticks "$stat"
        return 0
    done
    echo 0
}

# Whether the JIT went quiet between two readings over SECONDS: at most 1 % of a core, and the same thread.
jit_quiet() {
    local before=$1 after=$2 seconds=$3
    ((after >= before && after - before <= seconds * $(getconf CLK_TCK) / 100))
}

# Runs the load command (one run of 5 s) again and again until the JIT of the .NET process PID goes quiet, at most
# MAX seconds; sets JIT_STATE ("settled", "still busy" or, with MAX 0, "not waited for") and JIT_WAITED (seconds). In the caller's shell, not a
# subshell, so that the command may track its own processes.
jit_settle() {
    local pid=$1 max=$2 before after
    shift 2
    JIT_STATE="still busy" JIT_WAITED=0
    ((max > 0)) || JIT_STATE="not waited for"
    while ((JIT_WAITED < max)); do
        before=$(jit_ticks "$pid")
        "$@"
        after=$(jit_ticks "$pid")
        JIT_WAITED=$((JIT_WAITED + 5))
        if jit_quiet "$before" "$after" 5; then
            JIT_STATE=settled
            return 0
        fi
    done
}
