package appcheck

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// splunkPlatforms are the folders splunkd looks in before <app>/bin for a modular input's or
// chunked command's executable (docs/splunk-app.md, "Platforms"), each with the Go target the
// package builds there and the executable's suffix.
var splunkPlatforms = []struct {
	folder, goos, goarch, ext string
}{
	{"linux_x86_64", "linux", "amd64", ""},
	{"linux_aarch64", "linux", "arm64", ""},
	{"windows_x86_64", "windows", "amd64", ".exe"},
	{"darwin_x86_64", "darwin", "amd64", ""},
	{"darwin_arm64", "darwin", "arm64", ""},
}

// shippedCommands are the executables splunkd runs: the modular input (its name is the scheme
// of README/inputs.conf.spec) and the search command (its name is the commands.conf stanza).
func shippedCommands(t *testing.T) []string {
	scheme, _ := appSpec(t)
	var cmds []string
	for _, s := range readConf(t, "default/commands.conf", false).Stanzas {
		if s.Name != "" {
			require.NotContains(t, s.Keys, "filename",
				"[%s]: with a filename splunkd would not add .exe on Windows; the stanza name finds the executable", s.Name)
			cmds = append(cmds, s.Name)
		}
	}
	return append([]string{scheme}, cmds...)
}

// binaries returns the package path of every executable splunkd looks for, per platform.
func binaries(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, p := range splunkPlatforms {
		for _, c := range shippedCommands(t) {
			out["oktasight/"+p.folder+"/bin/"+c+p.ext] = p.folder
		}
	}
	return out
}

func TestPackageLayout(t *testing.T) {
	path, out, err := runPackage(t, writeFakeGo(t))
	require.NoError(t, err, out)
	assert.Equal(t, path, strings.TrimSpace(out), "the script prints the tarball's path")
	files, order := readTarball(t, path)

	for _, want := range []string{
		"oktasight/default/app.conf",
		"oktasight/default/props.conf", "oktasight/default/savedsearches.conf", "oktasight/metadata/default.meta",
		"oktasight/README/inputs.conf.spec", "oktasight/lookups/oktasight_event_types.csv",
		"oktasight/lookups/oktasight_egress_ips.csv", "oktasight/static/appIcon.png", "oktasight/app.manifest",
		"oktasight/LICENSE",
		"oktasight/default/data/ui/views/oktasight_signin_overview.xml", "oktasight/default/data/ui/nav/default.xml",
		"oktasight/default/data/ui/views/oktasight_setup.xml", "oktasight/appserver/static/oktasight_setup.js",
	} {
		assert.Contains(t, files, want)
	}
	bins := binaries(t)
	require.Len(t, bins, 10, "two executables on five platforms")
	for bin := range bins {
		if assert.Contains(t, files, bin) {
			assert.Equal(t, int64(0o755), files[bin].mode, "%s is executable", bin)
		}
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
			strings.HasPrefix(name, "oktasight/bin/") || name == "oktasight/metadata/local.meta", "%s must not ship", name)
		switch {
		case e.isDir:
			assert.Equal(t, int64(0o755), e.mode, name)
		case bins[name] == "":
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

// TestPackageRealBuild builds the real binaries for every platform and checks each one's
// header as `file` would: ELF x86-64 or AArch64 without a dynamic loader, PE32+ x86-64
// console program, Mach-O x86_64 or arm64 executable. It skips only while the module is still
// incomplete (a package the commands import does not exist yet); a compile error fails it.
func TestPackageRealBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ten binaries")
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
	for bin, folder := range binaries(t) {
		e, ok := files[bin]
		if !assert.True(t, ok, "%s is missing", bin) {
			continue
		}
		assert.Equal(t, int64(0o755), e.mode, bin)
		assert.Equal(t, folder, describeBinary(t, bin, e.body), "%s is built for the platform of its folder", bin)
	}

	// README/inputs.conf.spec documents exactly the arguments the packaged input declares: run
	// the build for this machine.
	var host string
	for _, p := range splunkPlatforms {
		if p.goos == runtime.GOOS && p.goarch == runtime.GOARCH {
			host = "oktasight/" + p.folder + "/bin/oktainput" + p.ext
		}
	}
	if host == "" {
		t.Skipf("no packaged build runs on %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(host))
	require.NoError(t, os.WriteFile(bin, files[host].body, 0o755))
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

// describeBinary reads an executable's header and names the splunkd platform folder it runs
// in, failing the test for anything else: a dynamically linked ELF, a DLL or GUI program, a
// Mach-O that is not an executable.
func describeBinary(t *testing.T, name string, body []byte) string {
	t.Helper()
	r := bytes.NewReader(body)
	switch {
	case bytes.HasPrefix(body, []byte("\x7fELF")):
		f, err := elf.NewFile(r)
		require.NoError(t, err, name)
		assert.Equal(t, elf.ELFCLASS64, f.Class, "%s is 64-bit", name)
		assert.Equal(t, elf.ET_EXEC, f.Type, "%s is an executable", name)
		for _, p := range f.Progs {
			assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s is static (no dynamic loader)", name)
		}
		switch f.Machine {
		case elf.EM_X86_64:
			return "linux_x86_64"
		case elf.EM_AARCH64:
			return "linux_aarch64"
		}
		return "ELF " + f.Machine.String()
	case bytes.HasPrefix(body, []byte("MZ")):
		f, err := pe.NewFile(r)
		require.NoError(t, err, name)
		oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
		require.True(t, ok, "%s is PE32+", name)
		assert.Equal(t, uint16(pe.IMAGE_SUBSYSTEM_WINDOWS_CUI), oh.Subsystem, "%s is a console program (splunkd reads its stdout)", name)
		assert.Zero(t, f.Characteristics&pe.IMAGE_FILE_DLL, "%s is not a DLL", name)
		if f.Machine == pe.IMAGE_FILE_MACHINE_AMD64 {
			return "windows_x86_64"
		}
		return fmt.Sprintf("PE machine %#x", f.Machine)
	default:
		f, err := macho.NewFile(r)
		require.NoError(t, err, "%s is neither ELF, PE nor Mach-O", name)
		assert.Equal(t, macho.TypeExec, f.Type, "%s is an executable", name)
		switch f.Cpu {
		case macho.CpuAmd64:
			return "darwin_x86_64"
		case macho.CpuArm64:
			return "darwin_arm64"
		}
		return "Mach-O " + f.Cpu.String()
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
