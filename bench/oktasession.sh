#!/usr/bin/env bash
# Measures oktasession on the stream splunkd really sends it: ../shared/bench/realistic_perf.py
# runs the command's phases as splunkd does (the map phase on Okta events carrying _raw, with
# only the columns its getinfo asks for in required_fields; then the reduce on the map's
# replies as the search head forwards them) and the splunklib peer the same way, each process
# under /usr/bin/time. Prints per phase: CPU-seconds (user+sys), events per CPU-second, peak
# RSS; both phases together; the peer's figures from the same run; and the JSON report's path.
#
#   bash bench/oktasession.sh [--events N] [--chunk-size N] [--reps N] [--no-peer] [--record DIR]
#
#   --events      events per run (default 100000)
#   --chunk-size  rows per execute chunk, splunkd's maxresultrows (default 50000)
#   --reps        runs of ours and of the peer, alternating; medians are reported (default 3)
#   --no-peer     skip the splunklib peer
#   --record DIR  also write DIR/map.input and DIR/reduce.input, the two phases' input streams
#                 (uncompressed, for scp_driver.py --replay, callgrind, or BenchmarkCommandReplay
#                 and profile.pgo: see cmd/oktasession/bench_test.go), and stop there
#
# The peer needs splunk-sdk-python's splunklib, which is not part of this repository and must
# never be committed to it: clone it outside, e.g.
#   git clone https://github.com/splunk/splunk-sdk-python ../ext/splunk-sdk-python
# and point SDK at it (SDK=/path/to/splunk-sdk-python); ../ext/splunk-sdk-python and
# /work/ext/splunk-sdk-python are tried when SDK is unset.
# Needs go, python3, /usr/bin/time and ../shared/bench/ (next to this checkout, or SHARED_BENCH). CPU figures on
# a shared machine move by +-15% between runs; compare builds with callgrind instruction counts
# (valgrind --tool=callgrind, GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1) on the --record streams.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=100000 CHUNK=50000 REPS=3 PEER=1 RECORD=
while [ $# -gt 0 ]; do
  case $1 in
    --events) EVENTS=$2; shift 2 ;;
    --chunk-size) CHUNK=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --no-peer) PEER=0; shift ;;
    --record) RECORD=$2; shift 2 ;;
    *) echo "bench: unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
# The shared bench tools: $SHARED_BENCH, else ../shared/bench next to this checkout (or next to
# the worktrees' folder).
SHARED=${SHARED_BENCH:-}
for d in ../shared/bench ../../shared/bench /work/shared/bench; do
  [ -z "$SHARED" ] && [ -f "$d/realistic_perf.py" ] && SHARED=$d
done
SHARED=${SHARED:-../shared/bench}
for tool in go python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
[ -f "$SHARED/realistic_perf.py" ] || { echo "bench: $SHARED/realistic_perf.py not found" >&2; exit 1; }
work=$(mktemp -d /tmp/oktasession-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
bin="$work/oktasession"
go build -trimpath -pgo=cmd/oktasession/profile.pgo -o "$bin" ./cmd/oktasession # as make build does

if [ -n "$RECORD" ]; then
  mkdir -p "$RECORD"
  python3 "$SHARED/scp_driver.py" --json --events "$EVENTS" --seed 7 --chunk-size "$CHUNK" --order desc \
    --honor-required-fields --arg phase=map --record-dir "$work" --record-name map -- "$bin" >"$work/map.json"
  python3 - "$SHARED" "$work" "$RECORD" "$bin" <<'PY'
import argparse, gzip, json, shutil, subprocess, sys
shared, work, out, binary = sys.argv[1:5]
sys.path.insert(0, shared)
sys.dont_write_bytecode = True
import realistic_perf as rp, scp_driver
if not json.load(open(work + "/map.json"))["ok"]:
    sys.exit("bench: the map phase failed")
with gzip.open(work + "/map.input.gz") as f, open(out + "/map.input", "wb") as g:
    shutil.copyfileobj(f, g)
# The reduce's input as the search head forwards the map's replies: only the columns the
# reduce's getinfo names, re-quoted as splunkd quotes them (what realistic_perf.py sends).
probe = subprocess.run([sys.executable, shared + "/scp_driver.py", "--json", "--events", "0", "--", binary],
                       stdout=subprocess.PIPE, check=True)
required = json.loads(probe.stdout)["getinfo_reply"]["required_fields"]
ns = argparse.Namespace(arg=[], command_name="oktasession", preview=False, app="oktasight",
                        splunk_version="9.2.1", maxresultrows=50000)
bodies = [rp.as_splunkd_sends(body, required)[0] for _, body in rp.read_chunks(work + "/map.output")[1:]]
with open(out + "/reduce.input", "wb") as f:
    f.write(scp_driver.encode_chunk(scp_driver.getinfo_meta(ns, "/tmp", "bench.1")))
    for k, b in enumerate(bodies):
        f.write(scp_driver.encode_chunk({"action": "execute", "finished": k == len(bodies) - 1}, b))
print("bench: wrote %s/map.input and %s/reduce.input" % (out, out))
PY
  exit 0
fi

peer_args=(--peer '')
if [ "$PEER" = 1 ]; then
  sdk=${SDK:-}
  for d in "$sdk" ../ext/splunk-sdk-python /work/ext/splunk-sdk-python; do
    if [ -n "$d" ] && [ -d "$d/splunklib" ]; then sdk=$d; break; fi
  done
  if [ -z "$sdk" ] || [ ! -d "$sdk/splunklib" ]; then
    echo "bench: the splunklib peer needs splunk-sdk-python: clone it outside this repository," >&2
    echo "  git clone https://github.com/splunk/splunk-sdk-python ../ext/splunk-sdk-python" >&2
    echo "and set SDK to it, or pass --no-peer" >&2
    exit 1
  fi
  peer_args=(--sdk "$sdk")
fi
report=/tmp/oktasession-bench-realistic.json
python3 "$SHARED/realistic_perf.py" --bin "$bin" "${peer_args[@]}" --events "$EVENTS" \
  --chunk-size "$CHUNK" --reps "$REPS" >"$report" || { cat "$report"; exit 1; }
python3 - "$report" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = r["events"]
print("realistic stream: %d events, %d-row chunks, newest first, %d reps (medians); report %s"
      % (n, r["chunk_size"], r["reps"], sys.argv[1]))
for who in ("ours", "peer"):
    s = r.get(who)
    if not s:
        continue
    for p in s["phases_median"]:
        name = {"preop": "map (indexer)", "main": "reduce (search head)" if len(s["phases_median"]) > 1 else "single phase"}[p["phase"]]
        print("  %-5s %-21s cpu_s=%.3f events/cpu_s=%7.0f peak_rss_MiB=%5.1f bytes_in/event=%4.0f required_fields=%s"
              % (who, name, p["cpu_s"], n / max(p["cpu_s"], 1e-3), p["max_rss_kb"] / 1024, (p["bytes_in"] or 0) / n,
                 ",".join(p["required_fields"] or ["*"])[:60]))
    print("  %-5s %-21s cpu_s=%.3f events/cpu_s=%7.0f peak_rss_MiB=%5.1f (runs: %s CPU-s)"
          % (who, "together", s["cpu_s_median"], n / s["cpu_s_median"], s["max_rss_kb_max"] / 1024,
             ", ".join("%.2f" % c for c in s["cpu_s_runs"])))
PY
