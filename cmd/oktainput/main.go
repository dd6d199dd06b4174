// Command oktainput is a Splunk modular input that streams the Okta System Log into Splunk,
// every event exactly as Okta sent it, once. It also runs standalone: see `oktainput help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// version is set at build time from default/app.conf.
var version = "dev"

func main() {
	// OKTAINPUT_CPUPROFILE=<file> writes a CPU profile of the run, for performance work
	// (bench/oktainput.sh); it is off unless set.
	if path := os.Getenv("OKTAINPUT_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		} else {
			fmt.Fprintf(os.Stderr, "WARN oktainput cannot write the CPU profile %s\n", path)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}
