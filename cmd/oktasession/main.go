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

// memoryLimit is the soft heap limit unless GOMEMLIMIT says otherwise. splunkd runs one
// process per search and the live heap stays flat (about 46 MB at 5 M events: the chunk in
// hand, the reply being built, the open flows), so the collector works harder near the limit
// instead of letting the heap double to 90+ MB. A lower limit costs far more CPU than it saves.
const memoryLimit = 64 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
