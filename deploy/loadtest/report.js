// Reads the steps' Artillery reports (step-N.json) and writes the kit's report: per step the offered and achieved
// rate, p50/p90/p99/max, the share of non-2xx answers (transport errors counted as such) and of partial answers, the
// knee, the thresholds; report.json beside the table. Exit status: 0, or 1 when a threshold was crossed.
// Usage: node report.js OUT_DIR DURATION_S RATES(comma) MAX_P99_MS MAX_PARTIAL MAX_ERRORS URL   (empty: no threshold)
'use strict';
const fs = require('fs');
const path = require('path');

const [out, durationText, ratesText, maxP99, maxPartial, maxErrors, url] = process.argv.slice(2);
const duration = Number(durationText);
const rates = ratesText.split(',').map(Number);
const limit = (text) => (text === '' || text === undefined ? null : Number(text));
const thresholds = { maxP99Ms: limit(maxP99), maxPartial: limit(maxPartial), maxErrors: limit(maxErrors) };

const steps = [];
rates.forEach((offered, i) => {
  const file = path.join(out, `step-${i + 1}.json`);
  if (!fs.existsSync(file)) return;
  const aggregate = JSON.parse(fs.readFileSync(file, 'utf8')).aggregate;
  const counters = aggregate.counters || {};
  const times = (aggregate.summaries || {})['http.response_time'] || {};
  const count = (prefix) => Object.entries(counters).filter(([k]) => k.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);
  const responses = counters['http.responses'] || 0;
  const ok = count('http.codes.2');
  const transportErrors = count('errors.');
  const attempted = responses + transportErrors;
  const created = counters['vusers.created'] || 0;
  steps.push({
    step: i + 1,
    offeredPerSecond: offered,
    achievedPerSecond: Math.round((responses / duration) * 10) / 10,
    p50Ms: times.p50 ?? null, p90Ms: times.p90 ?? null, p99Ms: times.p99 ?? null, maxMs: times.max ?? null,
    responses, transportErrors,
    non2xxShare: attempted > 0 ? (attempted - ok) / attempted : 1,
    partialShare: ok > 0 ? (counters['gateway.partial'] || 0) / ok : 0,
    // Artillery starts arrivals on its own clock: fewer than offered means the tool itself fell behind (its CPU).
    toolLimited: created < 0.95 * offered * duration,
  });
});

// The knee: the last step before the first where the achieved rate fell below 95 % of the offered, p99 passed three
// times the first step's, or more than 1 % of the answers were not 2xx. A step the tool could not drive says nothing.
let knee = null;
const firstP99 = steps.length ? steps[0].p99Ms : null;
for (const s of steps) {
  const failed = s.achievedPerSecond < 0.95 * s.offeredPerSecond || (firstP99 && s.p99Ms > 3 * firstP99) || s.non2xxShare > 0.01;
  if (failed) break;
  if (!s.toolLimited) knee = s.step;
}

const crossed = [];
for (const s of steps) {
  if (thresholds.maxP99Ms !== null && s.p99Ms > thresholds.maxP99Ms) crossed.push(`step ${s.step}: p99 ${s.p99Ms} ms > --max-p99 ${thresholds.maxP99Ms}`);
  if (thresholds.maxPartial !== null && s.partialShare > thresholds.maxPartial) crossed.push(`step ${s.step}: partial ${(s.partialShare * 100).toFixed(1)} % > --max-partial ${thresholds.maxPartial}`);
  if (thresholds.maxErrors !== null && s.non2xxShare > thresholds.maxErrors) crossed.push(`step ${s.step}: non-2xx ${(s.non2xxShare * 100).toFixed(1)} % > --max-errors ${thresholds.maxErrors}`);
}

// The table the plot reads (plot.awk, shared with run.sh): step, offered, connections (none in an open loop),
// answers/s, 2xx/s, p50, p99, non-2xx share, answered, errors, and the partial share last.
const tsv = ['step\toffered\tconnections\trequests_per_s\tok_per_s\tp50_ms\tp99_ms\tnon200_share\tanswered\terrors\tpartial_share'];
for (const s of steps) {
  const okPerSecond = Math.round((s.responses * (1 - s.non2xxShare) / duration) * 10) / 10;
  tsv.push([s.step, s.offeredPerSecond, 0, s.achievedPerSecond, okPerSecond, s.p50Ms, s.p99Ms, s.non2xxShare.toFixed(4), s.responses, s.transportErrors, s.partialShare.toFixed(4)].join('\t'));
}
fs.writeFileSync(path.join(out, 'results.tsv'), tsv.join('\n') + '\n');

const report = { url, durationSeconds: duration, steps, knee, kneeRule: 'last step before achieved < 0.95 x offered, p99 > 3 x the first step\'s, or non-2xx > 1 %', thresholds, crossed };
fs.writeFileSync(path.join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');

const pct = (v) => `${(v * 100).toFixed(1)}%`;
console.log('step  offered/s  achieved/s   p50 ms   p90 ms   p99 ms   max ms  non-2xx  partial');
for (const s of steps) {
  console.log(`${String(s.step).padStart(4)} ${String(s.offeredPerSecond).padStart(10)} ${String(s.achievedPerSecond).padStart(11)} ${String(s.p50Ms).padStart(8)} ${String(s.p90Ms).padStart(8)} ${String(s.p99Ms).padStart(8)} ${String(s.maxMs).padStart(8)} ${pct(s.non2xxShare).padStart(8)} ${pct(s.partialShare).padStart(8)}${s.toolLimited ? '  (the load tool could not drive this step)' : ''}`);
}
console.log(knee ? `knee: step ${knee}, ${steps[knee - 1].offeredPerSecond}/s offered (${report.kneeRule})` : `knee: none (${report.kneeRule}; the first step already failed it, or none was driven)`);
for (const c of crossed) console.log(`threshold crossed: ${c}`);
console.log(`report: ${path.join(out, 'report.json')}`);
// For the plot: the knee's step and line.
fs.writeFileSync(path.join(out, 'knee.txt'), `${knee ?? 0}\n${knee ? `knee: step ${knee}, ${steps[knee - 1].offeredPerSecond}/s offered` : 'knee: none'}\n`);
process.exit(crossed.length ? 1 : 0);
