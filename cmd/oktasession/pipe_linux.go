package main

import (
	"os"
	"syscall"
)

// pipeSize is the buffer asked of the kernel for stdin and stdout when they are pipes. With the
// default 64 KiB, each 10 MB chunk from splunkd and each reply crosses the pipe in 160 pieces,
// each a wake-up of one side and a context switch: at 1 MiB, a tenth as many, and about 0.1
// CPU-seconds less per million events (bench/oktasession.sh). 1 MiB is the most an
// unprivileged process may ask for by default (/proc/sys/fs/pipe-max-size).
const pipeSize = 1 << 20

// fSetPipeSz is Linux's F_SETPIPE_SZ, which package syscall does not name.
const fSetPipeSz = 1031

// growPipes enlarges the pipes of stdin and stdout. It is best effort: a file, a terminal, an
// older kernel or a user over the pipe-user-pages limit keeps the default, which works.
func growPipes() {
	for _, f := range []*os.File{os.Stdin, os.Stdout} {
		growPipe(f)
	}
}

// growPipe asks for a pipeSize buffer on f and reports whether the kernel agreed.
func growPipe(f *os.File) bool {
	sc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = sc.Control(func(fd uintptr) {
		_, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, pipeSize)
		ok = errno == 0
	})
	return ok
}
