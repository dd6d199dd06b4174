// Command oktasession is the `oktasession` search command: it reconstructs Okta sign-in, app
// sign-in, MFA, self-service password reset and unlock sequences. splunkd runs it with no
// arguments and talks Search Command Protocol v2 on stdin/stdout; `oktasession --file
// events.ndjson` runs the same engine on exported Okta events.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the soft limit on the Go runtime's memory unless GOMEMLIMIT says otherwise.
// splunkd runs one process per search and the live heap stays flat (about 32 MB at 5 M
// fields-only events: the chunk in hand, the reply being built, the open flows), so the
// collector works a little harder instead of letting the heap double. The binary, stacks and
// freed pages not yet returned come on top, and vary from run to run: at 5 M events 52 MiB
// gives peaks of 53 to 61 MiB RSS where 56 MiB gave 62 to 65. On one P (see procs) a cycle
// costs about 2 ms of CPU, so the 11 more cycles per 5 M events cost about 20 ms in 13 s
// (GODEBUG=gctrace=1); with two Ps, whose idle mark worker spun through every cycle, 52 MiB
// cost 10% more CPU.
const memoryLimit = 52 << 20

// limitFor returns the soft memory limit for a process that holds a chunk body of n bytes.
// A body of more than a quarter of memoryLimit (full _raw events: 50 000 rows of 2 KB are
// about 100 MB) raises it to leave room for twice the body, or the collector would run
// without pause under a limit the live heap alone exceeds.
func limitFor(n int) int64 {
	if n <= memoryLimit/4 {
		return memoryLimit
	}
	return memoryLimit + 2*int64(n)
}

// fitChunk is called with each chunk's body length; main sets it when the limit is ours.
var fitChunk func(n int)

// procs returns the number of Ps to run with unless GOMAXPROCS (getenv's answer) says
// otherwise: 1, as the command is one goroutine. With a second P the collector's idle mark
// worker takes the other core in every cycle, mostly spinning while it waits to scan the
// command's stack: about 75 ms of CPU per million events, where the whole collection costs
// 10 ms on one P (GODEBUG=gctrace=1), and CPU-seconds are what a search head pays for.
func procs(getenv func(string) string) int {
	if getenv("GOMAXPROCS") != "" {
		return 0 // runtime.GOMAXPROCS(0) changes nothing
	}
	return 1
}

func main() {
	runtime.GOMAXPROCS(procs(os.Getenv))
	if os.Getenv("GOMEMLIMIT") == "" {
		limit := int64(memoryLimit)
		debug.SetMemoryLimit(limit)
		fitChunk = func(n int) {
			if l := limitFor(n); l > limit {
				limit = l
				debug.SetMemoryLimit(limit)
			}
		}
	}
	growPipes()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
