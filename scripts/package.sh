#!/usr/bin/env bash
# make package: dist/oktasight-<version>.tgz, the app a Splunk admin installs.
#
# Cross-builds static binaries (CGO_ENABLED=0) of oktainput and oktasession for every platform
# Splunk runs on, into the platform folders splunkd looks in before <app>/bin:
# linux_x86_64, linux_aarch64, windows_x86_64 (name.exe), darwin_x86_64, darwin_arm64 (see
# docs/splunk-app.md, "Platforms"). Stages only what Splunk reads (no Go sources, tests or
# build files, no local/ settings), and writes a deterministic tarball (sorted names, fixed
# mtime, owner 0) with oktasight/ at its root: the same commit gives the same bytes.
#
# Environment: GO (the go command, default go), DIST_DIR (default dist), SOURCE_DATE_EPOCH
# (the files' mtime; default the last commit's time, else 0), PLATFORMS (default all five,
# space-separated folder names).
set -euo pipefail
cd "$(dirname "$0")/.."

APP=oktasight
GO=${GO:-go}
DIST_DIR=${DIST_DIR:-dist}
COMMANDS=(oktainput oktasession)
# splunkd's platform folder, GOOS/GOARCH, and the executable's suffix.
ALL_PLATFORMS="linux_x86_64 linux_aarch64 windows_x86_64 darwin_x86_64 darwin_arm64"
PLATFORMS=${PLATFORMS:-$ALL_PLATFORMS}

die() { echo "package: $*" >&2; exit 1; }

target() {
  case $1 in
    linux_x86_64) echo "linux amd64 " ;;
    linux_aarch64) echo "linux arm64 " ;;
    windows_x86_64) echo "windows amd64 .exe" ;;
    darwin_x86_64) echo "darwin amd64 " ;;
    darwin_arm64) echo "darwin arm64 " ;;
    *) return 1 ;;
  esac
}

version=$(sed -n 's/^version *= *//p' default/app.conf 2>/dev/null | head -1 | tr -d '[:space:]')
[ -n "$version" ] || die "no 'version = ' line in default/app.conf"
case $version in *[!0-9A-Za-z.+-]*) die "default/app.conf: version '$version' has characters a file name should not" ;; esac

epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed (for --sort, --mtime and --owner)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/$APP-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/$APP"
mkdir -p "$root"

for platform in $PLATFORMS; do
  read -r goos goarch ext < <(target "$platform") || die "unknown platform folder '$platform' (known: $ALL_PLATFORMS)"
  mkdir -p "$root/$platform/bin"
  for cmd in "${COMMANDS[@]}"; do
    [ -d "cmd/$cmd" ] || die "cmd/$cmd does not exist"
    pgo=off # profile-guided, as make build: see the Makefile
    [ -f "cmd/$cmd/profile.pgo" ] && pgo="cmd/$cmd/profile.pgo"
    out="$root/$platform/bin/$cmd$ext"
    if ! CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch "$GO" build -trimpath -buildvcs=false -pgo="$pgo" \
        -ldflags "-s -w -X main.version=$version" -o "$out" "./cmd/$cmd"; then
      die "building cmd/$cmd for $goos/$goarch failed"
    fi
    [ -s "$out" ] || die "building cmd/$cmd for $goos/$goarch produced no binary"
  done
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

# Modes: directories and binaries 0755 (splunkd on Linux and macOS runs them as they are
# unpacked; Windows ignores the bits), everything else 0644.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
for platform in $PLATFORMS; do chmod 0755 "$root/$platform"/bin/*; done

mkdir -p "$DIST_DIR"
out="$DIST_DIR/$APP-$version.tgz"
tmp="$out.tmp.$$"
tar -C "$stage" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  --format=gnu -cf - "$APP" | gzip -9 -n >"$tmp"
mv -f "$tmp" "$out"
echo "$out"
