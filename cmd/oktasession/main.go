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
// splunkd runs one process per search and the live heap stays small: request bodies are read
// as a stream through a window of a few hundred KiB, and what remains is the reply being built
// and the open flows. The collector works a little harder instead of letting the heap double.
// The binary, stacks and freed pages not yet returned come on top. On one P (see procs) a
// cycle costs about 2 ms of CPU. Both phases run under it: the map phase had 44 MiB while its
// reply grew as one 20 MB body (62.5 to 65.7 MiB peak RSS at 52 MiB); with the reply kept in
// blocks (scp.RowWriter) it peaks at 25 to 28.5 MiB under either limit (realistic stream).
const memoryLimit = 52 << 20

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
		debug.SetMemoryLimit(memoryLimit)
	}
	growPipes()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
