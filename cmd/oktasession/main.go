// Command oktasession is the `oktasession` search command: it reconstructs Okta sign-in, app
// sign-in, MFA, self-service password reset and unlock sequences. splunkd runs it with no
// arguments and talks Search Command Protocol v2 on stdin/stdout; `oktasession --file
// events.ndjson` runs the same engine on exported Okta events.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the soft limit on the Go runtime's memory unless GOMEMLIMIT says otherwise.
// splunkd runs one process per search and the live heap stays flat (about 32 MB at 5 M
// fields-only events: the chunk in hand, the reply being built, the open flows), so the
// collector works a little harder instead of letting the heap double. The binary, stacks and
// freed pages not yet returned come on top: 56 MiB keeps the peak RSS near 62 MiB at 5 M
// events at no measurable CPU cost; 52 MiB costs about 10% more CPU (bench/oktasession.sh).
const memoryLimit = 56 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
