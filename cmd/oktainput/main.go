// Command oktainput is a Splunk modular input that streams the Okta System Log into Splunk,
// every event exactly as Okta sent it, once. It also runs standalone: see `oktainput help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// version is set at build time from default/app.conf.
var version = "dev"

// minProcs is the fewest Ps oktainput runs with unless GOMAXPROCS says otherwise.
//
// On one core (a small forwarder, a container with one CPU, or taskset) Go starts one P, and
// the goroutine writing a page holds it for up to a 10 ms time slice while the next page's
// bytes wait in the socket: the goroutine reading them, which sends the request after that
// one as soon as the body is in, is run only when the writer blocks or is preempted, so the
// simulated org sits idle between pages. With two Ps the kernel runs the reader as soon as
// its bytes arrive, still on the one core. bench/oktainput.sh, pinned to one core: 83-96k
// events/s wall with one P, 106-113k with two, the same CPU-seconds per event.
const minProcs = 2

// procs returns the number of Ps to set, 0 to leave the runtime's choice: at least minProcs
// unless GOMAXPROCS (getenv's answer) was set.
func procs(getenv func(string) string, current int) int {
	if getenv("GOMAXPROCS") != "" || current >= minProcs {
		return 0
	}
	return minProcs
}

func main() {
	runtime.GOMAXPROCS(procs(os.Getenv, runtime.GOMAXPROCS(0)))
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
