#!/usr/bin/env bash
# Measures oktasession as splunkd runs it: ../shared/bench/scp_driver.py plays splunkd over the
# Search Command Protocol v2 and the command runs under /usr/bin/time, whose user+sys seconds
# and maximum RSS are the command's own (the driver's wait4 figure for RSS also counts the
# Python process the child was forked from, so it is not used).
#
#   bash bench/oktasession.sh [events] [peak_events]
#
# Inputs (arguments or environment):
#   events       EVENTS, default 1000000: size of the fields-only, full-_raw, map and reduce runs
#   peak_events  PEAK_EVENTS, default 5000000 (0 skips): fields-only run reported for peak RSS
#   BENCH_DIR    where generated streams are cached between runs, default /tmp/oktasession-bench
#                (a 5 M fields-only stream is about 0.9 GB; generating it takes minutes)
# Needs go, python3, /usr/bin/time and ../shared/bench/scp_driver.py (next to this checkout).
# Every run uses the driver's synthetic Okta events with seed 42, so the raw and map runs read
# the same events. Prints one line per run and writes the driver's JSON reports to BENCH_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-${EVENTS:-1000000}}
PEAK_EVENTS=${2:-${PEAK_EVENTS:-5000000}}
BENCH_DIR=${BENCH_DIR:-/tmp/oktasession-bench}
DRIVER=../shared/bench/scp_driver.py
for tool in go python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
[ -f "$DRIVER" ] || { echo "bench: $DRIVER not found" >&2; exit 1; }
mkdir -p "$BENCH_DIR"
bin="$BENCH_DIR/oktasession"
go build -pgo=cmd/oktasession/profile.pgo -o "$bin" ./cmd/oktasession  # as make build does

# run NAME EVENTS DRIVER-ARGS...: one driver run; prints events/s, CPU-s, peak RSS, bytes.
run() {
  local name=$1 n=$2
  shift 2
  python3 "$DRIVER" --json "$@" -- /usr/bin/time -f '%U %S %M' -o "$BENCH_DIR/$name.time" "$bin" >"$BENCH_DIR/$name.json"
  python3 - "$BENCH_DIR/$name.json" "$BENCH_DIR/$name.time" "$name" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
u, s, kb = open(sys.argv[2]).read().split()[-3:]
cpu, n = float(u) + float(s), int(sys.argv[4])
if not r["ok"]:
    sys.exit("bench: %s failed: %s" % (sys.argv[3], r["errors"] or r["inspector_messages"]))
print("%-12s events=%d events/s(wall)=%.0f cpu_s=%.2f events/cpu_s=%.0f peak_rss_MiB=%.1f in_bytes/event=%.0f out_bytes/event=%.0f rows_out=%d"
      % (sys.argv[3], n, r["events_per_second"] or 0, cpu, n / cpu, int(kb) / 1024, r["bytes_sent"] / n, r["output_bytes"] / n, r["output_rows"]))
PY
}

# fields N: the cached fields-only stream of N events.
fields() {
  local f="$BENCH_DIR/fields$1.input.gz"
  [ -s "$f" ] || python3 bench/oktasession_streams.py fields "$1" "$f"
  echo "$f"
}

echo "== whole process through the protocol (driver: scp_driver.py; CPU and RSS: /usr/bin/time)"
run fields "$EVENTS" --replay "$(fields "$EVENTS")"
run raw "$EVENTS" --events "$EVENTS" --honor-required-fields --no-meta-fields --record-dir "$BENCH_DIR" --record-name raw

echo "== issue 6: the same $EVENTS events with and without the map phase"
run map "$EVENTS" --events "$EVENTS" --honor-required-fields --no-meta-fields --arg phase=map \
  --record-dir "$BENCH_DIR" --record-name map
python3 bench/oktasession_streams.py reduce "$BENCH_DIR/map.output" "$BENCH_DIR/reduce.input.gz"
run reduce "$EVENTS" --replay "$BENCH_DIR/reduce.input.gz" --record-dir "$BENCH_DIR" --record-name reduce
python3 - "$BENCH_DIR" "$EVENTS" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
raw, mp, red = (json.load(open("%s/%s.json" % (d, k))) for k in ("raw", "map", "reduce"))
cpu = {k: sum(float(x) for x in open("%s/%s.time" % (d, k)).read().split()[-3:-1]) for k in ("raw", "map", "reduce")}
print("bytes/event: raw stream %.0f, leaving the map phase %.0f (%.1fx less)" % (raw["bytes_sent"] / n, mp["output_bytes"] / n, raw["bytes_sent"] / mp["output_bytes"]))
print("search-head CPU-s per 100k events: without map phase %.3f, with map phase %.3f (%.1fx less); map phase on the indexers %.3f"
      % (cpu["raw"] * 1e5 / n, cpu["reduce"] * 1e5 / n, cpu["raw"] / cpu["reduce"], cpu["map"] * 1e5 / n))
sys.path.insert(0, "bench")
from oktasession_streams import chunks
rows = {}
for k in ("raw", "reduce"):
    rows[k] = sorted(line for _, body in list(chunks(open("%s/%s.output" % (d, k), "rb").read()))[1:] for line in body.split(b"\r\n") if line)
same = rows["raw"] == rows["reduce"]
print("sequences: without map %d, with map %d, %s" % (raw["output_rows"], red["output_rows"], "identical" if same else "DIFFERENT"))
sys.exit(0 if same else 1)
PY

if [ "$PEAK_EVENTS" -gt 0 ]; then
  echo "== peak RSS at $PEAK_EVENTS events (fields-only)"
  run peak "$PEAK_EVENTS" --replay "$(fields "$PEAK_EVENTS")"
fi
