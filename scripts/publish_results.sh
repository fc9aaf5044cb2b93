#!/usr/bin/env bash
# Copies a crossval's report into docs/ without its bulk: report.md,
# metrics.csv, plan.json, state.json, tables/ and the figures of one subject
# (default sub-001). The report's figure sections of the other subjects
# become one line saying where their figures are, so that no link in docs/
# points at a file that is not there. With DEST only (no CV), prunes a report
# already in DEST the same way.
# Usage: scripts/publish_results.sh [CV_DIR] DEST [SUBJECT]
set -euo pipefail
if [ $# -ge 2 ] && [ -f "$1/report.md" ]; then
  cv="$1" dest="$2" keep="${3:-sub-001}"
  mkdir -p "$dest/figures" "$dest/tables"
  cp "$cv/report.md" "$cv/metrics.csv" "$cv/plan.json" "$cv/state.json" "$dest/"
  cp "$cv"/tables/* "$dest/tables/"
  cp "$cv"/figures/*_"$keep"_*.png "$dest/figures/"
else
  dest="$1"
fi
report="$dest/report.md"
[ -f "$report" ] || { echo "publish_results: no report.md in $dest" >&2; exit 1; }
# Within "## Figures", a "### <subject>" section is kept when every image it
# links is in DEST; the others are named in one line at the section's end.
awk -v dir="$dest" '
  function flush() {
    if (sub_name == "") return
    if (ok) printf "%s", buf; else dropped = dropped (dropped == "" ? "" : ", ") sub_name
    buf = ""; sub_name = ""
  }
  function note() {
    if (dropped != "")
      printf "Figures of %s: in the run'"'"'s own figures/ folder (docs/ keeps one subject'"'"'s).\n\n", dropped
    dropped = ""
  }
  /^## / { flush(); if (in_fig) note(); in_fig = ($0 == "## Figures") ; print; next }
  in_fig && /^### / { flush(); sub_name = substr($0, 5); ok = 1; buf = $0 "\n"; next }
  in_fig && sub_name != "" {
    line = $0
    while (match(line, /\]\(figures\/[^)]*\)/)) {
      f = substr(line, RSTART + 2, RLENGTH - 3)
      if ((getline dummy < (dir "/" f)) < 0) ok = 0; else close(dir "/" f)
      line = substr(line, RSTART + RLENGTH)
    }
    buf = buf $0 "\n"; next
  }
  { print }
  END { flush(); if (in_fig) note() }
' "$report" > "$report.tmp"
mv "$report.tmp" "$report"
missing=0
for f in $(grep -o '](figures/[^)]*)' "$report" | sed 's/^](//; s/)$//'); do
  [ -f "$dest/$f" ] || { echo "publish_results: $report links $f, which is not there" >&2; missing=1; }
done
exit $missing
