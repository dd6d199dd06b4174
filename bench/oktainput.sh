#!/usr/bin/env bash
# Measures the oktainput pipeline end to end: a simulated org (bin/oktasim, pinned to one
# core) serves a backlog over TLS; oktainput, pinned to the other core, reads it as splunkd
# would run it (configuration XML on stdin, XML event stream on stdout to /dev/null) until it
# has caught up. Prints events/s, CPU seconds and peak RSS of oktainput alone.
#
#   bash bench/oktainput.sh [events]      (default 300000; needs `make build`, taskset, /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-300000}
for tool in taskset /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
[ -x bin/oktainput ] && [ -x bin/oktasim ] || { echo "bench: run make build first" >&2; exit 1; }
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
cat >"$work/input.xml" <<XML
<input><server_host>bench</server_host><server_uri>https://127.0.0.1:8089</server_uri><session_key>x</session_key>
<checkpoint_dir>$work/cp</checkpoint_dir><configuration><stanza name="oktainput://bench" app="oktasight">
<param name="org_url">$url</param><param name="api_token">bench-token</param><param name="ca_file">$work/ca.pem</param>
<param name="start_date">-7d</param><param name="interval">60</param><param name="index">okta</param>
</stanza></configuration></input>
XML
start=$(date +%s.%N)
OKTAINPUT_CPUPROFILE=${OKTAINPUT_CPUPROFILE:-} taskset -c 0 /usr/bin/time -v bin/oktainput <"$work/input.xml" >/dev/null 2>"$work/run.err"
end=$(date +%s.%N)
grep -q "events=$EVENTS " "$work/run.err" || { echo "bench: oktainput did not deliver $EVENTS events:" >&2; cat "$work/run.err" >&2; exit 1; }
awk -v n="$EVENTS" -v s="$start" -v e="$end" '
  /User time/ {u=$NF} /System time/ {sy=$NF} /Maximum resident set size/ {rss=$NF}
  END {
    wall = e - s; cpu = u + sy
    printf "oktainput: %d events in %.2f s wall = %.0f events/s; CPU %.2f s = %.0f events per CPU-second; peak RSS %.1f MiB\n",
      n, wall, n / wall, cpu, n / cpu, rss / 1024
  }' "$work/run.err"
