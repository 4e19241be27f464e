#!/usr/bin/env bash
# Open-loop load test of one gateway URL: each step offers a constant arrival rate (Artillery's arrivalRate: a new
# request every 1/rate s whether or not the earlier ones were answered, so a slow gateway cannot slow the load down as
# a closed loop of connections would) and reports, per step, the offered and achieved rate, p50/p90/p99/max, the share
# of non-2xx answers and the share of partial answers (X-Aggregate-Complete: false), the knee, report.json,
# results.tsv and plot.svg (deploy/loadtest/plot.awk, as run.sh draws it).
#
#   deploy/loadtest/openloop.sh --url http://staging-gateway/api/dashboard/42 [--rates 10,20,40,80] [--duration 10]
#       [--max-p99 MS] [--max-partial SHARE] [--max-errors SHARE] [--out DIR]
#
# Exit status: 0; 1 when a threshold (--max-p99 in ms, --max-partial and --max-errors as shares such as 0.05) was
# crossed in any step, to gate a release on; 2 for bad arguments or a target that does not answer as an aggregate.
# Artillery comes from npm (deploy/loadtest/package.json, installed by `npm ci` here on first use).
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

url=${LOADTEST_URL:-}
rates=${LOADTEST_RATES:-10,20,40,80}
duration=${LOADTEST_DURATION:-10}
max_p99='' max_partial='' max_errors=''
out=${LOADTEST_OUT:-loadtest-$(date -u +%Y%m%dT%H%M%SZ)}

fail() { echo "openloop.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --max-p99) max_p99=$2; shift 2 ;;
    --max-partial) max_partial=$2; shift 2 ;;
    --max-errors) max_errors=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument '$1' (--help lists them)" ;;
  esac
done

# The URL is written into Artillery's YAML: no quote or backslash that could change what it says.
[[ $url =~ ^https?://[^[:space:]\"\\]+$ ]] || fail "--url must be an http(s) URL of an aggregate (no spaces, quotes or backslashes), not '$url'"
[[ $rates =~ ^[0-9]+(,[0-9]+)*$ ]] || fail "--rates must be comma-separated whole requests/s, such as 10,20,40"
IFS=, read -r -a steps <<<"$rates"
[ "${#steps[@]}" -le 20 ] || fail "--rates: at most 20 steps"
for rate in "${steps[@]}"; do [ "$rate" -ge 1 ] && [ "$rate" -le 5000 ] || fail "a rate in --rates must be from 1 to 5000, not $rate"; done
[[ $duration =~ ^[0-9]+$ ]] && [ "$duration" -ge 1 ] && [ "$duration" -le 600 ] || fail "--duration must be whole seconds from 1 to 600"
for t in "$max_p99" "$max_partial" "$max_errors"; do [[ -z $t || $t =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "a threshold must be a number, not '$t'"; done

# A dead or wrong target fails here, at once, instead of as a step of 100 % errors.
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
code=$(curl -s -o /dev/null -D "$headers" -m 10 -w '%{http_code}' "$url" || true)
case "$code" in
  000) fail "$url does not answer (connection refused or no answer within 10 s): is the gateway running there?" ;;
  2*|502|503|504) ;;
  *) fail "$url answered HTTP $code: not an aggregate (check the path)" ;;
esac
grep -qi '^x-aggregate-complete:' "$headers" || fail "$url answered without X-Aggregate-Complete: not one of the gateway's aggregates"

artillery=$here/node_modules/.bin/artillery
if [ ! -x "$artillery" ]; then
  command -v npm >/dev/null 2>&1 || fail "npm is not installed (Node.js 20 or newer; apt-get install nodejs npm)"
  echo "installing Artillery (npm ci in $here)" >&2
  # Artillery's browser engine would download a Chromium: an HTTP load test needs none.
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

mkdir -p "$out"
target=${url%%://*}://$(echo "${url#*://}" | cut -d/ -f1)
path=/${url#*://*/}
[ "$path" != "/$url" ] || path=/
echo "open-loop load test of $url: steps $rates req/s, $duration s each; output in $out"
index=0
for rate in "${steps[@]}"; do
  index=$((index + 1))
  cat >"$out/step-$index.yml" <<YAML
config:
  target: "$target"
  processor: "$here/partial.js"
  phases:
    - duration: $duration
      arrivalRate: $rate
  http:
    timeout: 30
scenarios:
  - flow:
      - get:
          url: "$path"
          afterResponse: "countPartial"
YAML
  echo "step $index: $rate req/s for $duration s" >&2
  "$artillery" run --quiet --output "$out/step-$index.json" "$out/step-$index.yml" >"$out/step-$index.log" 2>&1 \
    || fail "Artillery failed in step $index (see $out/step-$index.log)"
done

status=0
node "$here/report.js" "$out" "$duration" "$rates" "$max_p99" "$max_partial" "$max_errors" "$url" || status=$?
[ "$status" -le 1 ] || fail "the report could not be written (node exited with $status)"
{ read -r knee; read -r knee_line; } <"$out/knee.txt"
awk -F'\t' -v knee="$knee" -v title="$url" -v kneeline="$knee_line" -f "$here/plot.awk" "$out/results.tsv" >"$out/plot.svg"
echo "plot: $out/plot.svg"
exit "$status"
