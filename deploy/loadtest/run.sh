#!/usr/bin/env bash
# Staging load test: ramps the offered rate against one gateway URL in steps with `hey` (Debian package `hey`),
# prints requests/s, p50, p99 and the share of non-200 answers per step, finds the knee and writes a plot
# (plot.svg) of throughput and latency against offered load. How to read it: deploy/loadtest/README.md.
#
#   deploy/loadtest/run.sh --url http://staging-gateway/api/dashboard/42 [--rates 100,200,400,800,1600,3200]
#       [--duration 10] [--connections 128] [--warmup 3] [--timeout 10] [--knee-latency 3]
#       [--knee-throughput 0.95] [--knee-errors 0.01] [--stop-after 2] [--header 'Name: value'] [--out DIR]
#
# Every flag has an environment variable of the same name in capitals (LOADTEST_URL, LOADTEST_RATES, ...), --header excepted.
set -euo pipefail
export LC_ALL=C

url=${LOADTEST_URL:-}
rates=${LOADTEST_RATES:-100,200,400,800,1600,3200}
duration=${LOADTEST_DURATION:-10}
connections=${LOADTEST_CONNECTIONS:-128}
warmup=${LOADTEST_WARMUP:-3}
timeout=${LOADTEST_TIMEOUT:-10}
knee_latency=${LOADTEST_KNEE_LATENCY:-3}
knee_throughput=${LOADTEST_KNEE_THROUGHPUT:-0.95}
knee_errors=${LOADTEST_KNEE_ERRORS:-0.01}
stop_after=${LOADTEST_STOP_AFTER:-2}
out=${LOADTEST_OUT:-loadtest-$(date -u +%Y%m%dT%H%M%SZ)}
headers=()

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "$1"; }
fail() { echo "run.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --url) url=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --knee-latency) knee_latency=$2; shift 2 ;;
    --knee-throughput) knee_throughput=$2; shift 2 ;;
    --knee-errors) knee_errors=$2; shift 2 ;;
    --stop-after) stop_after=$2; shift 2 ;;
    --header) headers+=(-H "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) fail "unknown argument '$1' (--help lists them)" ;;
  esac
done

# Bounds: a load test against a shared environment must end, and soon.
integer() { [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] || fail "$1 must be a whole number from $3 to $4, not '$2'"; }
decimal() { [[ $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "$1 must be a number, not '$2'"; }
[[ $url =~ ^https?://[^[:space:]]+$ ]] || fail "--url must be an http(s) URL of the gateway (an aggregate's route), not '$url'"
[[ $rates =~ ^[0-9]+(,[0-9]+)*$ ]] || fail "--rates must be comma-separated whole requests/s, such as 100,200,400"
IFS=, read -r -a steps <<<"$rates"
[ "${#steps[@]}" -le 30 ] || fail "--rates: at most 30 steps"
previous=0
for rate in "${steps[@]}"; do
  integer "a rate in --rates" "$rate" 1 1000000
  [ "$rate" -gt "$previous" ] || fail "--rates must increase"
  previous=$rate
done
integer --duration "$duration" 1 600
integer --connections "$connections" 1 20000
integer --warmup "$warmup" 0 60
integer --timeout "$timeout" 1 120
integer --stop-after "$stop_after" 0 30
decimal --knee-latency "$knee_latency"
decimal --knee-throughput "$knee_throughput"
decimal --knee-errors "$knee_errors"
command -v hey >/dev/null 2>&1 || fail "hey is not installed (apt-get install hey)"

mkdir -p "$out"
results=$out/results.tsv

# One step: `hey -z` runs for the step's duration; `-c` workers each limited to rate/workers requests/s (`-q`).
# A worker waits for its answer before sending the next, so when answers slow down the achieved rate falls
# below the offered one: that shortfall, not only latency, shows saturation.
# The workers are as many connections as allowed that share the step's requests (rate x duration) evenly, so each
# sends a whole number of them (round rates give --connections itself or close to it: 3000 over 128 gives 120).
run_step() { # rate seconds report-file latency-estimate-ms
  local rate=$1 seconds=$2 workers per_worker run_for
  workers=$(awk -v n="$((rate * seconds))" -v c="$connections" 'BEGIN { for (w = (c < n ? c : n); w > 1; w--) if (n % w == 0) break; print w }')
  per_worker=$(awk -v r="$rate" -v w="$workers" 'BEGIN { printf "%.6f", r / w }')
  # A hey worker (with -q) loops: if -z has ended, stop; else wait for its next tick (1/q, 2/q, ... after its start),
  # send, wait for the answer. So its duration x q-th request, sent at the step's duration, goes out only if the
  # answer before it came back before -z ended, and nothing more goes out only if -z ended before that request's
  # own answer. Ending at duration - interval/2 + the answer time L meets both with half an interval to spare on
  # either side; L is estimated from the step before (the warm-up or a probe for the first), and capped at half an
  # interval, past which ending at the duration itself keeps the margins for any L below an interval (above it the
  # worker falls behind its ticks anyway, and that shortfall is the gateway's). Without the estimate, answers over
  # half an interval lost every worker's last request: a false knee at low rates against a slow aggregate.
  run_for=$(awk -v d="$seconds" -v q="$per_worker" -v l="$4" 'BEGIN { h = 0.5 / q; l = l / 1000; printf "%.3f", d - h + (l < h ? l : h) }')
  hey -z "${run_for}s" -c "$workers" -q "$per_worker" -t "$timeout" ${headers[@]+"${headers[@]}"} "$url" >"$3" 2>&1 || true
  echo "$workers"
}

# hey's summary: the latency distribution (its 99% line is missing below 100 answers: then the slowest answer
# stands in; its 50% line with a handful: then the average), status codes and errors (connection failures,
# timeouts) with their counts. Rates are counts over the step's duration (hey's own Requests/sec divides by a
# total that includes waiting for the last answers).
summarize() { # report-file seconds -> "requests/s ok/s p50_ms p99_ms non200_share answered errors"
  awk -v total="$2" '
    /^ *Slowest:/ { slowest = $2 }
    /^ *Average:/ { average = $2 }
    /^ *50% in / { p50 = $3 }
    /^ *99% in / { p99 = $3 }
    /^Status code distribution:/ { section = "status"; next }
    /^Error distribution:/ { section = "errors"; next }
    section == "status" && /^ *\[[0-9]+\]/ { code = $1; gsub(/[][]/, "", code); answered += $2; if (code == 200) ok += $2 }
    section == "errors" && /^ *\[[0-9]+\]/ { count = $1; gsub(/[][]/, "", count); errors += count }
    END {
      if (p50 == "" || p50 == 0) p50 = average
      if (p99 == "" || p99 == 0) p99 = slowest
      all = answered + errors
      printf "%.1f %.1f %.1f %.1f %.4f %d %d\n", all / total, ok / total, p50 * 1000, p99 * 1000,
        (all > 0 ? (all - ok) / all : 1), answered, errors
    }' "$1"
}

echo "load test of $url: steps ${rates} req/s, ${duration} s each, up to ${connections} connections; output in $out"
# The answer time the first step starts from (see run_step): the warm-up's median, or five requests one by one.
if [ "$warmup" -gt 0 ]; then
  run_step "${steps[0]}" "$warmup" "$out/warmup.txt" 0 >/dev/null
else
  hey -n 5 -c 1 -t "$timeout" ${headers[@]+"${headers[@]}"} "$url" >"$out/warmup.txt" 2>&1 || true
fi
read -r _ _ latency _ <<<"$(summarize "$out/warmup.txt" 1)"

printf 'step\toffered\tconnections\trequests_per_s\tok_per_s\tp50_ms\tp99_ms\tnon200_share\tanswered\terrors\n' >"$results"
printf '%4s %9s %6s %12s %10s %9s %9s %9s\n' step offered/s conns requests/s ok/s p50_ms p99_ms non-200
knee=0
first_p99=
beyond=0
index=0
for rate in "${steps[@]}"; do
  index=$((index + 1))
  workers=$(run_step "$rate" "$duration" "$out/step-$index.txt" "$latency")
  read -r rps ok p50 p99 share answered errors <<<"$(summarize "$out/step-$index.txt" "$duration")"
  latency=$p50
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$index" "$rate" "$workers" "$rps" "$ok" "$p50" "$p99" "$share" "$answered" "$errors" >>"$results"
  printf '%4s %9s %6s %12s %10s %9s %9s %8.2f%%\n' "$index" "$rate" "$workers" "$rps" "$ok" "$p50" "$p99" "$(awk -v s="$share" 'BEGIN { print s * 100 }')"
  # hey's workers wait for each answer: w workers at a p50 of t ms send at most about w x 1000 / t per second.
  if awk -v w="$workers" -v p="$p50" -v r="$rate" 'BEGIN { exit !(p > 0 && w * 1000 / p < 1.2 * r) }'; then
    echo "     note: $workers connections at p50 ${p50} ms can barely send ${rate}/s: this step measures the load tool too (raise --connections)"
  fi
  if [ -z "$first_p99" ]; then first_p99=$p99; fi
  # The knee: the last step of the ramp, before the first that fails, where the gateway kept up with the offered
  # rate (ok answers/s >= knee-throughput x offered), p99 stayed within knee-latency x the first step's, and
  # non-200 answers and errors stayed at most knee-errors of all.
  if awk -v ok="$ok" -v r="$rate" -v t="$knee_throughput" -v p="$p99" -v f="$first_p99" -v k="$knee_latency" -v s="$share" -v e="$knee_errors" \
      'BEGIN { exit !(ok >= t * r && p <= k * (f > 0 ? f : 1) && s <= e) }'; then
    if [ "$beyond" -eq 0 ]; then knee=$index; fi
  else
    beyond=$((beyond + 1))
    if [ "$stop_after" -gt 0 ] && [ "$beyond" -ge "$stop_after" ] && [ "$index" -lt "${#steps[@]}" ]; then
      echo "stopping: $beyond steps past the knee (--stop-after $stop_after)"
      break
    fi
  fi
done

if [ "$knee" -gt 0 ]; then
  knee_line=$(awk -F'\t' -v k="$knee" '$1 == k { printf "knee: step %s, %s req/s offered: %s ok/s, p50 %s ms, p99 %s ms, non-200 %.2f%%", $1, $2, $5, $6, $7, $8 * 100 }' "$results")
  if [ "$beyond" -eq 0 ]; then
    knee_line="$knee_line (no step failed: the knee is there or beyond, raise --rates to find it)"
  fi
else
  knee_line="knee: none (the first step already failed the criteria: lower --rates)"
fi
echo "$knee_line"

# The plot (deploy/loadtest/plot.awk, shared with openloop.sh): throughput and latency against offered load.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
awk -F'\t' -v knee="$knee" -v title="$url" -v kneeline="$knee_line" -f "$here/plot.awk" "$results" >"$out/plot.svg"

echo "table: $results"
echo "plot: $out/plot.svg"
