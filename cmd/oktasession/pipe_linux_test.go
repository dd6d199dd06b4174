package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGrowPipe(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err != nil {
		t.Skipf("no pipe-max-size: %v", err)
	} else if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); n < pipeSize {
		t.Skipf("pipe-max-size %d is below %d", n, pipeSize)
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	require.True(t, growPipe(r))
	const fGetPipeSz = 1032
	size, _, errno := syscall.Syscall(syscall.SYS_FCNTL, r.Fd(), fGetPipeSz, 0)
	require.Zero(t, errno)
	assert.Equal(t, uintptr(pipeSize), size)

	// A regular file is not a pipe: refused, and harmless.
	f, err := os.CreateTemp(t.TempDir(), "notapipe")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, growPipe(f))
}
