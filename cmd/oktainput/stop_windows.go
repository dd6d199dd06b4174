package main

import (
	"context"
	"os"
	"strconv"
	"syscall"
)

// processQueryLimitedInformation is PROCESS_QUERY_LIMITED_INFORMATION, enough for
// GetProcessTimes on any process the user may see (the syscall package lacks the name).
const processQueryLimitedInformation = 0x1000

// errInvalidParameter is ERROR_INVALID_PARAMETER, OpenProcess's answer for a pid no process has.
const errInvalidParameter = syscall.Errno(87)

// watchParentProcess calls gone once the parent process has exited. Windows gives an orphan no
// new parent and may hand the old pid to a new process, so the watch holds a handle to the
// parent, opened at start, and waits on it; a process with the parent's pid that was created
// after this one is not the parent, which has already gone.
// The watch ends with ctx.
func watchParentProcess(ctx context.Context, gone func(string)) {
	ppid := os.Getppid()
	h, err := syscall.OpenProcess(syscall.SYNCHRONIZE|processQueryLimitedInformation, false, uint32(ppid))
	if err != nil {
		if err == errInvalidParameter {
			gone("parent process " + strconv.Itoa(ppid) + " exited before the input started")
		}
		// Anything else (access denied?) leaves the input to splunkd's CTRL_BREAK alone.
		return
	}
	if created(h) > created(currentProcess()) {
		syscall.CloseHandle(h)
		gone("parent process " + strconv.Itoa(ppid) + " exited before the input started")
		return
	}
	go func() {
		defer syscall.CloseHandle(h)
		for {
			// Wait in steps, so a finished input does not leave a thread blocked for ever.
			ev, err := syscall.WaitForSingleObject(h, uint32(parentCheckEvery.Milliseconds()))
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				return // the handle no longer waits: stop watching, never stop the input
			}
			if ev == syscall.WAIT_OBJECT_0 {
				gone("parent process " + strconv.Itoa(ppid) + " exited")
				return
			}
		}
	}()
}

func currentProcess() syscall.Handle {
	h, _ := syscall.GetCurrentProcess() // a pseudo-handle: it cannot fail
	return h
}

// created returns a process's creation time (Unix nanoseconds), or 0 when unknown.
func created(h syscall.Handle) int64 {
	var c, e, k, u syscall.Filetime
	if syscall.GetProcessTimes(h, &c, &e, &k, &u) != nil {
		return 0
	}
	return c.Nanoseconds()
}
