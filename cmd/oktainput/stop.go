package main

import (
	"context"
	"log/slog"
	"time"
)

// parentCheckEvery is how often the input looks for its parent where it has to poll.
const parentCheckEvery = time.Second

// watchParent returns a context that is cancelled, with an INFO line naming the reason, when
// the process that started oktainput (splunkd) has gone: the input then saves its checkpoint
// and exits as it does when stopped, instead of running on as an orphan whose events no one
// reads. splunkd stops an input with SIGTERM on Linux and macOS and with CTRL_BREAK on Windows
// (Go delivers both: main's signal.NotifyContext), but a splunkd that crashes, or is killed,
// sends neither. cancel ends the watch.
func watchParent(ctx context.Context, log *slog.Logger) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	gone := func(why string) {
		if ctx.Err() == nil {
			log.Info("oktainput stopping: splunkd, which started it, has gone", "reason", why)
			cancel()
		}
	}
	watchParentProcess(ctx, gone)
	return ctx, cancel
}
