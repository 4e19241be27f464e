# The load-test plot, as SVG (no plotting package needed): throughput above, latency below, against the offered rate;
# steps evenly spaced along x; the knee as a dashed vertical line. Input: a results.tsv (a header line, then per step:
# step, offered, connections, requests/s, ok/s, p50 ms, p99 ms, non-200 share, ...), tab-separated.
# Usage: awk -F'\t' -v knee=K -v title=URL -v kneeline=TEXT -f plot.awk results.tsv > plot.svg
  NR == 1 { next }
  { n++; offered[n] = $2; rps[n] = $4; ok[n] = $5; p50[n] = $6; p99[n] = $7; share[n] = $8
    if ($2 > ymaxT) ymaxT = $2; if ($4 > ymaxT) ymaxT = $4; if ($7 > ymaxL) ymaxL = $7 }
  function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); return s }
  function x(i) { return left + (n > 1 ? (i - 1) * (width / (n - 1)) : width / 2) }
  function y(v, top, max) { return top + height - (max > 0 ? v / max * height : 0) }
  function nice(v,   p, m) { if (v <= 0) return 1; p = 10 ^ int(log(v) / log(10)); m = v / p
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p }
  function series(values, top, max, color, label, dash,   i, pts) {
    pts = ""; for (i = 1; i <= n; i++) pts = pts sprintf("%.1f,%.1f ", x(i), y(values[i], top, max))
    printf "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"%s\"/>\n", label, color, dash, pts
    for (i = 1; i <= n; i++) printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x(i), y(values[i], top, max), color }
  function panel(top, max, unit, name,   t, v) {
    printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", left, top, width, height
    printf "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"bold\">%s</text>\n", left, top - 8, name
    for (t = 0; t <= 4; t++) { v = max * t / 4
      printf "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", left, left + width, y(v, top, max), y(v, top, max)
      printf "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%g %s</text>\n", left - 6, y(v, top, max) + 4, v, unit }
    if (knee > 0) printf "<line class=\"knee\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#d62728\" stroke-dasharray=\"6,4\"/>\n", x(knee), x(knee), top, top + height }
  END {
    left = 90; width = 620; height = 220; topT = 80; topL = 370
    maxT = nice(ymaxT); maxL = nice(ymaxL)
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"680\" font-family=\"sans-serif\">\n"
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Load test: %s</text>\n", left, esc(title)
    printf "<text x=\"%d\" y=\"42\" font-size=\"12\">%s</text>\n", left, esc(kneeline)
    panel(topT, maxT, "/s", "Throughput (requests/s) against offered load")
    series(offered, topT, maxT, "#bbbbbb", "offered", " stroke-dasharray=\"2,3\"")
    series(ok, topT, maxT, "#2ca02c", "ok", "")
    series(rps, topT, maxT, "#1f77b4", "requests", " stroke-dasharray=\"5,3\"")
    panel(topL, maxL, "ms", "Latency (ms) against offered load")
    series(p50, topL, maxL, "#9467bd", "p50", "")
    series(p99, topL, maxL, "#ff7f0e", "p99", "")
    for (i = 1; i <= n; i++) {
      printf "<text class=\"offered\" x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n", x(i), topL + height + 16, offered[i]
      if (share[i] > 0) printf "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#d62728\" text-anchor=\"middle\">%.1f%% non-200</text>\n", x(i), topT + height + 14, share[i] * 100 }
    printf "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">offered load (requests/s), one point per step</text>\n", left + width / 2, topL + height + 36
    legend[1] = "offered|#bbbbbb"; legend[2] = "all answers/s|#1f77b4"; legend[3] = "200 answers/s|#2ca02c"
    legend[4] = "p50 latency|#9467bd"; legend[5] = "p99 latency|#ff7f0e"; legend[6] = "knee|#d62728"
    for (i = 1; i <= 6; i++) { split(legend[i], part, "|")
      printf "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>\n", 20 + (i - 1) * 122, 650, part[2], 20 + (i - 1) * 122 + 16, 660, part[1] }
    print "</svg>"
  }
