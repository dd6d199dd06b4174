#!/usr/bin/env bash
# make package: dist/oktasight-<version>.tgz, the app a Splunk admin installs.
#
# Builds static Linux x86_64 binaries of oktainput and oktasession into the staged app's bin/,
# stages only what Splunk reads (no Go sources, tests or build files, no local/ settings), and
# writes a deterministic tarball (sorted names, fixed mtime, owner 0) with oktasight/ at its root.
#
# Environment: GO (the go command, default go), DIST_DIR (default dist), SOURCE_DATE_EPOCH
# (the files' mtime; default the last commit's time, else 0).
set -euo pipefail
cd "$(dirname "$0")/.."

APP=oktasight
GO=${GO:-go}
DIST_DIR=${DIST_DIR:-dist}
COMMANDS=(oktainput oktasession)

die() { echo "package: $*" >&2; exit 1; }

version=$(sed -n 's/^version *= *//p' default/app.conf 2>/dev/null | head -1 | tr -d '[:space:]')
[ -n "$version" ] || die "no 'version = ' line in default/app.conf"
case $version in *[!0-9A-Za-z.+-]*) die "default/app.conf: version '$version' has characters a file name should not" ;; esac

epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed (for --sort, --mtime and --owner)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/$APP-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/$APP"
mkdir -p "$root/bin"

for cmd in "${COMMANDS[@]}"; do
  [ -d "cmd/$cmd" ] || die "cmd/$cmd does not exist"
  pgo=off # profile-guided, as make build: see the Makefile
  [ -f "cmd/$cmd/profile.pgo" ] && pgo="cmd/$cmd/profile.pgo"
  if ! CGO_ENABLED=0 GOOS=linux GOARCH=amd64 "$GO" build -trimpath -buildvcs=false -pgo="$pgo" \
      -ldflags "-s -w -X main.version=$version" -o "$root/bin/$cmd" "./cmd/$cmd"; then
    die "building cmd/$cmd for linux/amd64 failed"
  fi
  [ -s "$root/bin/$cmd" ] || die "building cmd/$cmd produced no binary"
done

# What Splunk reads. default.meta only: local.meta and local/ are one installation's own.
for dir in default README lookups static appserver; do
  [ -d "$dir" ] || die "$dir/ is missing"
  cp -R "$dir" "$root/"
done
mkdir -p "$root/metadata"
cp metadata/default.meta "$root/metadata/"
cp app.manifest "$root/"
for f in LICENSE LICENSE.txt README.md; do
  if [ -f "$f" ]; then cp "$f" "$root/"; fi
done
# Editor and OS litter never ships.
find "$root" \( -name '.*' -o -name '*~' -o -name '*.swp' -o -name '*.go' -o -name '*_test.*' \) -prune -exec rm -rf {} +

# Modes: directories and binaries 0755, everything else 0644.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root"/bin/*

mkdir -p "$DIST_DIR"
out="$DIST_DIR/$APP-$version.tgz"
tmp="$out.tmp.$$"
tar -C "$stage" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  --format=gnu -cf - "$APP" | gzip -9 -n >"$tmp"
mv -f "$tmp" "$out"
echo "$out"
