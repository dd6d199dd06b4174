//go:build !windows

package main

import (
	"context"
	"os"
	"strconv"
	"time"
)

// watchParentProcess calls gone once the parent process has exited: the kernel then gives the
// orphan a new parent (init or a subreaper), so getppid changes. Splunk's own solnlib watches
// the same way (OrphanProcessChecker). A process whose parent is already init watches nothing.
// The watch ends with ctx.
func watchParentProcess(ctx context.Context, gone func(string)) {
	ppid := os.Getppid()
	if ppid <= 1 {
		return
	}
	go func() {
		t := time.NewTicker(parentCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if now := os.Getppid(); now != ppid {
					gone("parent process " + strconv.Itoa(ppid) + " exited (parent is now " + strconv.Itoa(now) + ")")
					return
				}
			}
		}
	}()
}
