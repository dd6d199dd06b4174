#!/usr/bin/env bash
# make wine-check: the Windows build of both programs, run under Debian's wine.
#
#   1. oktainput.exe --scheme: the scheme splunkd reads, with every argument;
#   2. oktainput.exe --validate-arguments against oktasim (a local HTTPS fake Okta org), with a
#      good token (exit 0, nothing on stdout) and a wrong one (exit 1, <error> on stdout), the
#      CA file given as a Windows path;
#   3. oktasession.exe --file on the test events, LF and CRLF, compared with the Linux build;
#   4. the Windows builds of the checkpoint tests (rename over an existing and an open file)
#      and of oktainput's parent watch (a real process tree).
# The .exe files are the ones `make package` ships (PLATFORMS=windows_x86_64).
#
# Needs wine, wine64 and binutils-mingw-w64-x86-64 (.ci/run installs them). wine 8 lacks
# bcryptprimitives.dll, which every Go 1.22+ program loads at start: scripts/wine/ builds a
# stand-in for the wine prefix (see bcryptprimitives.s). Environment: GO (default go).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

die() { echo "wine-check: $*" >&2; exit 1; }
for tool in wine x86_64-w64-mingw32-as x86_64-w64-mingw32-ld x86_64-w64-mingw32-dlltool; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install wine wine64 binutils-mingw-w64-x86-64"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/wine-check.XXXXXX")
sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  WINEPREFIX="$work/prefix" wineserver -k 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
step() { echo "wine-check: $*"; }

# The wine prefix, with the ProcessPrng stand-in in its system32.
start=$(date +%s)
wine wineboot --init >/dev/null 2>&1 || die "wineboot failed"
cat >"$work/advapi32.def" <<'DEF'
LIBRARY advapi32.dll
EXPORTS
SystemFunction036
DEF
cat >"$work/bcryptprimitives.def" <<'DEF'
LIBRARY bcryptprimitives.dll
EXPORTS
ProcessPrng
DEF
x86_64-w64-mingw32-dlltool -d "$work/advapi32.def" -l "$work/libadvapi32.a"
x86_64-w64-mingw32-as scripts/wine/bcryptprimitives.s -o "$work/shim.o"
x86_64-w64-mingw32-ld --dll -e DllMain -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  "$work/shim.o" "$work/bcryptprimitives.def" "$work/libadvapi32.a"
step "wine $(wine --version) prefix ready in $(( $(date +%s) - start )) s"

# The packaged Windows binaries, the Windows test binaries, and Linux builds to compare with.
PLATFORMS=windows_x86_64 DIST_DIR="$work/dist" GO="$GO" bash scripts/package.sh >/dev/null
tar -xzf "$work"/dist/oktasight-*.tgz -C "$work" oktasight/windows_x86_64/bin
bin="$work/oktasight/windows_x86_64/bin"
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 "$GO" test -c -o "$work/checkpoint.test.exe" ./app/checkpoint
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 "$GO" test -c -o "$work/oktainput.test.exe" ./cmd/oktainput
CGO_ENABLED=0 "$GO" build -o "$work/oktasim" ./cmd/oktasim
CGO_ENABLED=0 "$GO" build -o "$work/oktasession" ./cmd/oktasession

# 1. --scheme
wine "$bin/oktainput.exe" --scheme >"$work/scheme.xml" || die "oktainput.exe --scheme failed"
args=$(grep -c '<arg name=' "$work/scheme.xml" || true)
grep -q '<title>Okta System Log</title>' "$work/scheme.xml" || die "oktainput.exe --scheme: no title: $(head -c 300 "$work/scheme.xml")"
[ "$args" -eq 22 ] || die "oktainput.exe --scheme declares $args arguments, want 22"
step "oktainput.exe --scheme: exit 0, $(wc -c <"$work/scheme.xml") bytes, $args arguments"

# 2. --validate-arguments against oktasim on loopback
token=wine-check-token-0123456789
OKTASIM_TOKEN=$token "$work/oktasim" serve -tls -ca-out "$work/ca.pem" -backlog 50 -users 10 -seed 1 \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^oktasim listening on //p' "$work/sim.out")
[ -n "$url" ] || die "oktasim did not start: $(cat "$work/sim.err")"
ca_win=$(winepath -w "$work/ca.pem")
validation() {
  cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<items>
  <server_host>wine</server_host>
  <server_uri>https://127.0.0.1:1</server_uri>
  <session_key>unused</session_key>
  <checkpoint_dir>C:\\splunk\\var\\lib\\splunk\\modinputs\\oktainput</checkpoint_dir>
  <item name="wine">
    <param name="org_url">$url</param>
    <param name="api_token">$1</param>
    <param name="ca_file">$ca_win</param>
    <param name="interval">60</param>
    <param name="index">main</param>
  </item>
</items>
XML
}
rc=0; validation "$token" | wine "$bin/oktainput.exe" --validate-arguments >"$work/valid.out" 2>"$work/valid.err" || rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$work/valid.out" ] || die "oktainput.exe --validate-arguments (good token): exit $rc, stdout: $(cat "$work/valid.out"), stderr: $(cat "$work/valid.err")"
step "oktainput.exe --validate-arguments, $url, ca_file=$ca_win: exit 0, no output"
rc=0; validation wrong-token | wine "$bin/oktainput.exe" --validate-arguments >"$work/invalid.out" 2>"$work/invalid.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q '<error><message>' "$work/invalid.out" || die "oktainput.exe --validate-arguments (wrong token): exit $rc, stdout: $(cat "$work/invalid.out")"
! grep -q wrong-token "$work/invalid.out" "$work/invalid.err" || die "the rejected token appears in the output"
step "oktainput.exe --validate-arguments, wrong token: exit 1, $(tr -d '\n' <"$work/invalid.out")"
kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=""

# 3. oktasession.exe --file, offline, LF and CRLF input, against the Linux build
events=cmd/oktasession/testdata/events.ndjson
"$work/oktasession" --file "$events" --format csv >"$work/linux.csv"
sed 's/$/\r/' "$events" >"$work/events-crlf.ndjson"
for input in "$events" "$work/events-crlf.ndjson"; do
  wine "$bin/oktasession.exe" --file "$(winepath -w "$input")" --format csv >"$work/windows.csv" 2>"$work/windows.err" ||
    die "oktasession.exe --file $input failed: $(cat "$work/windows.err")"
  cmp -s "$work/linux.csv" "$work/windows.csv" || die "oktasession.exe --file $input differs from the Linux build: $(diff "$work/linux.csv" "$work/windows.csv" | head -5)"
done
step "oktasession.exe --file (LF and CRLF events, Windows paths): exit 0, $(wc -c <"$work/windows.csv") bytes of CSV, the same as the Linux build's"

# 4. the Windows test binaries
wine "$work/checkpoint.test.exe" -test.run 'TestFileStoreSaves' -test.v 2>&1 | tee "$work/checkpoint.log" | grep -E '^(--- |ok|PASS|FAIL)' || true
grep -q '^PASS' "$work/checkpoint.log" || die "checkpoint tests failed under wine: $(cat "$work/checkpoint.log")"
wine "$work/oktainput.test.exe" -test.run 'TestWatchParent' -test.v 2>&1 | tee "$work/watch.log" | grep -E '^(--- |ok|PASS|FAIL)' || true
grep -q '^PASS' "$work/watch.log" || die "parent-watch tests failed under wine: $(cat "$work/watch.log")"
step "ok"
