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
// cycle costs about 2 ms of CPU.
const memoryLimit = 52 << 20

// mapMemoryLimit is memoryLimit for the map phase, whose live heap is bounded (the stream's
// window and the reply being built). It was set while the reply grew as one body, about 35 MB
// with the old and the new body for a 50 000-row chunk of the realistic stream: at 52 MiB the
// heap overshot to 58 MB and the process peaked at 62.5 to 65.7 MiB RSS; at 44 MiB it peaked at
// 54 MiB. Since the reply's rows are kept in blocks (scp.RowWriter) the heap stays near 20 MB
// and the map peaks at 26 to 28.5 MiB under either limit, with 5 collections. The reduce keeps
// memoryLimit: its live heap grows with the open flows.
const mapMemoryLimit = 44 << 20

// mapLimit lowers the runtime's memory limit for the map phase; main sets it when the limit
// is its own (GOMEMLIMIT unset).
var mapLimit func()

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
		mapLimit = func() { debug.SetMemoryLimit(mapMemoryLimit) }
	}
	growPipes()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
