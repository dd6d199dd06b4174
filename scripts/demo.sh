#!/usr/bin/env bash
# make demo: a simulated Okta org -> oktainput -> what arrived -> oktasession's sequences.
# Needs nothing but the binaries `make build` put in bin/: no Okta org, no Splunk.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKLOG=${DEMO_EVENTS:-20000}
work=$(mktemp -d "${TMPDIR:-/tmp}/oktasight-demo.XXXXXX")
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

export OKTA_API_TOKEN="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
echo "== 1. a simulated Okta org with $BACKLOG System Log events (sign-ins, MFA, app SSO, password resets, unlocks)"
bin/oktasim serve -addr 127.0.0.1:0 -tls -ca-out "$work/ca.pem" -token-env OKTA_API_TOKEN \
  -backlog "$BACKLOG" -users 300 -seed 7 -limit 600 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q listening "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*listening on //p' "$work/sim.out" | head -1)
[ -n "$url" ] || { echo "simulator did not start:"; cat "$work/sim.err"; exit 1; }
echo "   $url"

echo "== 2. oktainput polls it until caught up (standalone mode: NDJSON instead of Splunk's XML stream)"
bin/oktainput run --org-url "$url" --token-env OKTA_API_TOKEN --ca-file "$work/ca.pem" \
  --checkpoint-dir "$work/checkpoints" --out "$work/events.ndjson" --start-date -1d --once 2>"$work/oktainput.log"
grep 'oktainput stats' "$work/oktainput.log" | tail -1 | sed 's/^/   /'
echo "   $(wc -l <"$work/events.ndjson") events in $work/events.ndjson; by eventType:"
grep -o '"eventType":"[^"]*"' "$work/events.ndjson" | cut -d'"' -f4 | sort | uniq -c | sort -rn | head -12 | sed 's/^/   /'

echo "== 3. run again: the checkpoint resumes, nothing is fetched twice"
bin/oktainput run --org-url "$url" --token-env OKTA_API_TOKEN --ca-file "$work/ca.pem" \
  --checkpoint-dir "$work/checkpoints" --out "$work/events.ndjson" --start-date -1d --once 2>"$work/oktainput2.log"
echo "   $(wc -l <"$work/events.ndjson") events in total, $(grep -o '"uuid":"[^"]*"' "$work/events.ndjson" | sort | uniq -d | wc -l) duplicates"

echo "== 4. the Splunk path: the same org read into the XML event stream splunkd reads from a modular input"
bin/oktainput run --format xml --org-url "$url" --token-env OKTA_API_TOKEN --ca-file "$work/ca.pem" \
  --checkpoint-dir "$work/splunk-cp" --start-date -1d --hec-index main --once >"$work/stream.xml" 2>"$work/splunk.log"
echo "   $(grep -c '<done/></event>' "$work/stream.xml") <event> elements in $work/stream.xml; the first one:"
grep -m1 -o '<event .*</event>' "$work/stream.xml" | cut -c1-600 | sed 's/^/   /'
echo "   ..."
echo "   and the health line splunkd copies into _internal:"
grep 'oktainput stats' "$work/splunk.log" | tail -1 | sed 's/^/   /'

echo "== 5. oktasession reconstructs the sign-in, MFA, app, password-reset and unlock sequences"
bin/oktasession --file "$work/events.ndjson" --format table >"$work/sequences.txt"
bin/oktasession --file "$work/events.ndjson" --format json >"$work/sequences.ndjson"
head -20 "$work/sequences.txt"
echo "   ... $(wc -l <"$work/sequences.ndjson") sequences in $work/sequences.ndjson; by flow and status:"
grep -o '"flow":"[^"]*","status":"[^"]*"' "$work/sequences.ndjson" | sed 's/"flow":"\([^"]*\)","status":"\([^"]*\)"/\1 \2/' \
  | sort | uniq -c | sort -rn | sed 's/^/   /'
echo "== done: files are in $work"
