// Command oktasession is the `oktasession` search command: it reconstructs Okta sign-in, app
// sign-in, MFA, self-service password reset and unlock sequences. splunkd runs it with no
// arguments and talks Search Command Protocol v2 on stdin/stdout; `oktasession --file
// events.ndjson` runs the same engine on exported Okta events.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
