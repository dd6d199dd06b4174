package appcheck

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeGo is a stand-in for the go command: it writes a small file at -o (without run bits, so
// the script must set them), or fails when FAKE_GO_FAIL names the package being built.
const fakeGo = `#!/bin/sh
out=""; pkg=""
while [ $# -gt 0 ]; do
  case $1 in -o) shift; out=$1 ;; ./cmd/*) pkg=$1 ;; esac
  shift
done
if [ -n "$FAKE_GO_FAIL" ] && [ "$pkg" = "$FAKE_GO_FAIL" ]; then echo "fake compile error in $pkg" >&2; exit 2; fi
printf 'binary %s\n' "$pkg" > "$out"
chmod 0600 "$out"
`

// runPackage runs scripts/package.sh with the given go command into a temporary dist dir and
// returns the tarball's path and the script's combined output.
func runPackage(t *testing.T, goCmd string, env ...string) (string, string, error) {
	t.Helper()
	for _, tool := range []string{"bash", "tar", "gzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	dist := t.TempDir()
	cmd := exec.Command("bash", "scripts/package.sh")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), append([]string{"GO=" + goCmd, "DIST_DIR=" + dist, "SOURCE_DATE_EPOCH=1700000000"}, env...)...)
	out, err := cmd.CombinedOutput()
	return filepath.Join(dist, "oktasight-"+appVersion(t)+".tgz"), string(out), err
}

func appVersion(t *testing.T) string {
	return readConf(t, "default/app.conf", false).Stanza("id").Values["version"]
}

func writeFakeGo(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "go")
	require.NoError(t, os.WriteFile(p, []byte(fakeGo), 0o755))
	return p
}

type entry struct {
	mode  int64
	body  []byte
	hdr   tar.Header
	isDir bool
}

func readTarball(t *testing.T, path string) (map[string]entry, []string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	out := map[string]entry{}
	var order []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(tr)
		require.NoError(t, err)
		name := strings.TrimSuffix(h.Name, "/")
		out[name] = entry{mode: h.Mode, body: body, hdr: *h, isDir: h.Typeflag == tar.TypeDir}
		order = append(order, name)
	}
	return out, order
}

func TestPackageLayout(t *testing.T) {
	path, out, err := runPackage(t, writeFakeGo(t))
	require.NoError(t, err, out)
	assert.Equal(t, path, strings.TrimSpace(out), "the script prints the tarball's path")
	files, order := readTarball(t, path)

	for _, want := range []string{
		"oktasight/bin/oktainput", "oktasight/bin/oktasession", "oktasight/default/app.conf",
		"oktasight/default/props.conf", "oktasight/default/savedsearches.conf", "oktasight/metadata/default.meta",
		"oktasight/README/inputs.conf.spec", "oktasight/lookups/oktasight_event_types.csv",
		"oktasight/lookups/oktasight_egress_ips.csv", "oktasight/static/appIcon.png", "oktasight/app.manifest",
		"oktasight/default/data/ui/views/oktasight_signin_overview.xml", "oktasight/default/data/ui/nav/default.xml",
		"oktasight/default/data/ui/views/oktasight_setup.xml", "oktasight/appserver/static/oktasight_setup.js",
	} {
		assert.Contains(t, files, want)
	}
	for _, bin := range []string{"oktasight/bin/oktainput", "oktasight/bin/oktasession"} {
		assert.Equal(t, int64(0o755), files[bin].mode, "%s is executable", bin)
	}
	for name, e := range files {
		assert.True(t, name == "oktasight" || strings.HasPrefix(name, "oktasight/"), "%s is under the app folder", name)
		assert.Zero(t, e.hdr.Uid, name)
		assert.Zero(t, e.hdr.Gid, name)
		assert.Equal(t, int64(1700000000), e.hdr.ModTime.Unix(), "%s mtime", name)
		base := filepath.Base(name)
		assert.False(t, strings.HasSuffix(name, ".go") || base == "go.mod" || base == "go.sum" || base == "Makefile" ||
			strings.HasPrefix(base, ".") || strings.HasPrefix(name, "oktasight/app/") || strings.HasPrefix(name, "oktasight/cmd/") ||
			strings.HasPrefix(name, "oktasight/scripts/") || strings.HasPrefix(name, "oktasight/local") ||
			name == "oktasight/metadata/local.meta", "%s must not ship", name)
		switch {
		case e.isDir:
			assert.Equal(t, int64(0o755), e.mode, name)
		case !strings.HasPrefix(name, "oktasight/bin/"):
			assert.Equal(t, int64(0o644), e.mode, name)
		}
	}
	assert.Equal(t, "oktasight", order[0], "the app folder comes first")

	// The staged files are the repository's, byte for byte.
	want, err := os.ReadFile(filepath.Join(root, "default/props.conf"))
	require.NoError(t, err)
	assert.Equal(t, want, files["oktasight/default/props.conf"].body)

	// Deterministic: a second run writes the same bytes.
	first, err := os.ReadFile(path)
	require.NoError(t, err)
	path2, out, err := runPackage(t, writeFakeGo(t))
	require.NoError(t, err, out)
	second, err := os.ReadFile(path2)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(first, second), "two runs give the same tarball")
}

func TestPackageFailsWhenABuildFails(t *testing.T) {
	path, out, err := runPackage(t, writeFakeGo(t), "FAKE_GO_FAIL=./cmd/oktasession")
	require.Error(t, err)
	assert.Contains(t, out, "building cmd/oktasession for linux/amd64 failed")
	assert.Contains(t, out, "fake compile error")
	assert.NoFileExists(t, path)
}

// TestPackageRealBuild builds the real binaries. It skips only while the module is still
// incomplete (a package the commands import does not exist yet); a compile error fails it.
func TestPackageRealBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	list := exec.Command(goCmd, "list", "-deps", "./cmd/oktainput", "./cmd/oktasession")
	list.Dir = root
	if out, err := list.CombinedOutput(); err != nil {
		t.Skipf("the commands' packages are not all present yet: %s", firstLine(string(out)))
	}
	path, out, err := runPackage(t, goCmd)
	require.NoError(t, err, out)
	files, _ := readTarball(t, path)
	for _, bin := range []string{"oktasight/bin/oktainput", "oktasight/bin/oktasession"} {
		e := files[bin]
		require.Equal(t, int64(0o755), e.mode, bin)
		f, err := elf.NewFile(bytes.NewReader(e.body))
		require.NoError(t, err, "%s is an ELF binary", bin)
		assert.Equal(t, elf.EM_X86_64, f.Machine, bin)
		for _, p := range f.Progs {
			assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s is static (no dynamic loader)", bin)
		}
	}

	// README/inputs.conf.spec documents exactly the arguments the packaged input declares.
	bin := filepath.Join(t.TempDir(), "oktainput")
	require.NoError(t, os.WriteFile(bin, files["oktasight/bin/oktainput"].body, 0o755))
	scheme, err := exec.Command(bin, "--scheme").Output()
	require.NoError(t, err, "oktainput --scheme")
	var parsed struct {
		Args []struct {
			Name string `xml:"name,attr"`
		} `xml:"endpoint>args>arg"`
	}
	require.NoError(t, xml.Unmarshal(scheme, &parsed))
	var names []string
	for _, a := range parsed.Args {
		names = append(names, a.Name)
	}
	assert.ElementsMatch(t, schemeArgs, names, "oktainput --scheme arguments")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
