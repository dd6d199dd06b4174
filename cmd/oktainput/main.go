// Command oktainput is a Splunk modular input that streams the Okta System Log into Splunk,
// every event exactly as Okta sent it, once. It also runs standalone: see `oktainput help`.
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
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
