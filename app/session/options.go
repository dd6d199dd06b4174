package session

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// By is what a sequence is keyed by.
type By uint8

// The keys a sequence can follow.
const (
	ByUser    By = iota // the Okta user (see the package documentation for how it is found)
	BySession           // authenticationContext.externalSessionId
	ByIP                // client.ipAddress
)

// Order is the time order of the input.
type Order uint8

// The input orders the engine accepts.
const (
	OrderAuto       Order = iota // detected from the first two distinct timestamps
	OrderAscending               // oldest first, as after | sort _time
	OrderDescending              // newest first, as Splunk returns events
)

// Mode is the command's output mode; the engine itself always produces both kinds of output.
type Mode uint8

// The output modes of the oktasession command.
const (
	ModeSequences Mode = iota // one row per sequence
	ModeEvents                // every input row, with seq_id, flow, seq_step and status added
)

// Default timing limits.
const (
	DefaultMaxPause = 10 * time.Minute
	DefaultMaxSpan  = 30 * time.Minute
	DefaultDisorder = time.Second
	DefaultMaxKey   = 200_000
)

// The ranges of maxpause and maxspan. A day without an event ends any flow Okta documents
// (its sessions and recovery tokens expire sooner), and the engine holds each user's events for
// maxpause; a flow spanning more than a week is no longer one attempt. The bounds also keep
// the engine's arithmetic in milliseconds far from overflowing: 9223372036s once wrapped the
// window negative and made every event a sequence of its own.
const (
	MinDuration = time.Second
	MaxMaxPause = 24 * time.Hour
	MaxMaxSpan  = 7 * 24 * time.Hour
)

// Options configure an Engine; the zero value is not valid, use DefaultOptions or ParseArgs.
type Options struct {
	Flows    [numFlows]bool // Flows[f] reports whether sequences of flow f are emitted
	By       By
	MaxPause time.Duration // a flow ends when its next event is more than this after its last one
	MaxSpan  time.Duration // an event more than this after a flow's first event starts the next one
	Order    Order
	Mode     Mode
	// Disorder is how far behind the stream's newest (or oldest) time an event may arrive and
	// still be sequenced exactly as in sorted input.
	Disorder time.Duration
	// MaxKeyEvents caps the events buffered for one key that the engine cannot sequence yet:
	// newest first, all of a key's events until it is quiet; oldest first, those within
	// Disorder of the watermark (a key never quiet is sequenced as it goes). A key beyond it is
	// sequenced in pieces, which may differ from sorted input (Stats.Forced counts them).
	MaxKeyEvents int
	// Earliest is where the input's time range begins, in milliseconds since the epoch (the
	// search's earliest time); 0 when unknown. A sequence lacking its first documented step
	// and starting less than MaxSpan after it is marked cut=start.
	Earliest int64
}

// DefaultOptions returns every flow, by user, the default limits and automatic order.
func DefaultOptions() Options {
	o := Options{By: ByUser, MaxPause: DefaultMaxPause, MaxSpan: DefaultMaxSpan, Disorder: DefaultDisorder, MaxKeyEvents: DefaultMaxKey}
	for f := FlowSignin; f < numFlows; f++ {
		o.Flows[f] = true
	}
	return o
}

// ArgNames lists the key=value arguments ParseArgs accepts.
var ArgNames = []string{"flow", "by", "maxpause", "maxspan", "mode", "order", "earliest"}

// ParseArgs parses the command's key=value arguments over DefaultOptions. Each error is one
// line naming the argument and what it accepts.
func ParseArgs(args []string) (Options, error) {
	o := DefaultOptions()
	for _, arg := range args {
		key, val, ok := strings.Cut(arg, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if !ok {
			return o, fmt.Errorf("argument %q: want key=value with key one of %s", arg, strings.Join(ArgNames, ", "))
		}
		var err error
		switch key {
		case "flow":
			err = o.parseFlows(val)
		case "by":
			switch val {
			case "user":
				o.By = ByUser
			case "session":
				o.By = BySession
			case "ip":
				o.By = ByIP
			default:
				err = fmt.Errorf("by: want user, session or ip, got %q", val)
			}
		case "maxpause":
			o.MaxPause, err = parseDuration(key, val, MaxMaxPause, "24h")
		case "maxspan":
			o.MaxSpan, err = parseDuration(key, val, MaxMaxSpan, "7d")
		case "mode":
			switch val {
			case "sequences":
				o.Mode = ModeSequences
			case "events":
				o.Mode = ModeEvents
			default:
				err = fmt.Errorf("mode: want sequences or events, got %q", val)
			}
		case "order":
			switch val {
			case "auto":
				o.Order = OrderAuto
			case "asc":
				o.Order = OrderAscending
			case "desc":
				o.Order = OrderDescending
			default:
				err = fmt.Errorf("order: want auto, asc or desc, got %q", val)
			}
		case "earliest":
			o.Earliest, err = ParseEarliest(val)
		default:
			err = fmt.Errorf("unknown argument %q: want one of %s", key, strings.Join(ArgNames, ", "))
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

func (o *Options) parseFlows(val string) error {
	o.Flows = [numFlows]bool{}
	n := 0
	for _, name := range strings.Split(val, ",") {
		name = strings.TrimSpace(name)
		f := FlowNone
		for i := FlowSignin; i < numFlows; i++ {
			if flowNames[i] == name {
				f = i
			}
		}
		if f == FlowNone {
			return fmt.Errorf("flow: want a comma-separated list of signin, app_signin, sspr, unlock, got %q", val)
		}
		o.Flows[f] = true
		n++
	}
	if n == 0 {
		return fmt.Errorf("flow: want a comma-separated list of signin, app_signin, sspr, unlock, got %q", val)
	}
	return nil
}

// parseDuration reads a duration from 1s to hi (written hiText): Go's form (10m, 90s, 1h30m),
// a day count (1d) or plain seconds (600), as Splunk's transaction command takes them.
func parseDuration(key, val string, hi time.Duration, hiText string) (time.Duration, error) {
	d, err := time.ParseDuration(val)
	if err != nil {
		if n, err2 := strconv.ParseInt(val, 10, 64); err2 == nil && n < 1<<32 {
			d, err = time.Duration(n)*time.Second, nil
		} else if days, ok := strings.CutSuffix(val, "d"); ok {
			if n, err2 := strconv.ParseInt(days, 10, 64); err2 == nil && n < 1<<16 {
				d, err = time.Duration(n)*24*time.Hour, nil
			}
		}
	}
	if err != nil || d < MinDuration || d > hi {
		return 0, fmt.Errorf("%s: want a duration from 1s to %s, like 10m, 90s or 1h, got %q", key, hiText, val)
	}
	return d, nil
}

// ParseEarliest reads the time an input's range begins: epoch seconds (with a fraction, as
// splunkd's searchinfo.earliest_time gives it) or an RFC 3339 time; 0 (all time) and "" mean
// unknown. It returns milliseconds since the epoch.
func ParseEarliest(val string) (int64, error) {
	if val == "" || val == "0" {
		return 0, nil
	}
	if ms, err := parseEpoch([]byte(val)); err == nil {
		return ms, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, val); err == nil && t.UnixMilli() > 0 {
		return t.UnixMilli(), nil
	}
	return 0, fmt.Errorf("earliest: want epoch seconds or a time like 2024-03-04T09:00:00Z, got %q", val)
}
