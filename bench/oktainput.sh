#!/usr/bin/env bash
# Measures the oktainput pipeline end to end: a simulated org (bin/oktasim, pinned to one
# core) serves a backlog over TLS; oktainput, pinned to the other core, reads it until it has
# caught up and writes the modular-input XML stream splunkd would read (`run --format xml`,
# the same fetch -> parse -> XML -> checkpoint path as under splunkd) to /dev/null. Prints events/s, CPU seconds and peak RSS of oktainput alone.
#
#   bash bench/oktainput.sh [events]      (default 300000; needs `make build`, taskset, /usr/bin/time)
#
# OKTAINPUT_BIN names another oktainput binary to measure (an A/B against an older build);
# OKTAINPUT_CPUPROFILE names a file for its CPU profile.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-300000}
for tool in taskset /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
OKTAINPUT_BIN=${OKTAINPUT_BIN:-bin/oktainput}
[ -x "$OKTAINPUT_BIN" ] && [ -x bin/oktasim ] || { echo "bench: run make build first" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "${sim_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export OKTASIM_TOKEN=bench-token
cpus=$(nproc)
sim_cpu=$(( cpus > 1 ? 1 : 0 ))
taskset -c "$sim_cpu" bin/oktasim serve -tls -ca-out "$work/ca.pem" -backlog "$EVENTS" -users 1000 -seed 1 \
  -start -3d -limit 1000000 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 600); do
  url=$(sed -n 's/^oktasim listening on //p' "$work/sim.out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "bench: oktasim did not start:" >&2; cat "$work/sim.err" >&2; exit 1; }
start=$(date +%s.%N)
OKTA_API_TOKEN=bench-token OKTAINPUT_CPUPROFILE=${OKTAINPUT_CPUPROFILE:-} taskset -c 0 /usr/bin/time -v \
  "$OKTAINPUT_BIN" run --format xml --org-url "$url" --ca-file "$work/ca.pem" --checkpoint-dir "$work/cp" \
  --start-date -7d --hec-index okta --once >/dev/null 2>"$work/run.err"
end=$(date +%s.%N)
grep -q "events=$EVENTS " "$work/run.err" || { echo "bench: oktainput did not deliver $EVENTS events:" >&2; cat "$work/run.err" >&2; exit 1; }
awk -v n="$EVENTS" -v s="$start" -v e="$end" '
  /User time/ {u=$NF} /System time/ {sy=$NF} /Maximum resident set size/ {rss=$NF}
  /Voluntary context switches/ {vcs=$NF} /Involuntary context switches/ {ics=$NF}
  END {
    wall = e - s; cpu = u + sy
    printf "oktainput: %d events in %.2f s wall = %.0f events/s; CPU %.2f s = %.0f events per CPU-second; peak RSS %.1f MiB\n",
      n, wall, n / wall, cpu, n / cpu, rss / 1024
    # Other work on the same core shows as involuntary switches, and makes wall time noisy.
    printf "  user %.2f s, sys %.2f s; context switches: %d voluntary, %d involuntary\n", u, sy, vcs, ics
  }' "$work/run.err"
