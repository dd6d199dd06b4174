// Command oktasim is a simulated Okta org for demos, tests and benchmarks: `oktasim serve`
// answers GET /api/v1/logs as Okta does, `oktasim generate` writes System Log events as NDJSON.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time from default/app.conf.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
