package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/oktasight/oktasight/app/scp"
	"github.com/oktasight/oktasight/app/session"
)

const usage = `usage:
  oktasession                       run as a Splunk search command (splunkd starts it; SCP v2 on stdin/stdout)
  oktasession --file FILE [key=value ...] [--format table|csv|json]
                                    sequence Okta System Log events from an NDJSON file (- for stdin)

options (key=value, as in SPL):
  flow=signin,app_signin,sspr,unlock   flows to output (default: all)
  by=user|session|ip                   what a sequence follows (default: user)
  maxpause=10m                         a flow ends after this long without an event (1s to 24h)
  maxspan=30m                          a flow never spans longer than this (1s to 7d)
  mode=sequences|events                one row per sequence, or every event annotated
  order=auto|asc|desc                  input time order (default: detected)
  earliest=<epoch seconds|RFC 3339>    where the input's time range begins (in Splunk: the
                                       search's earliest time); a sequence lacking its first
                                       step within maxspan of it is marked cut=start
  input=raw|fields                     (in Splunk) read the Okta JSON in _raw (default), or Splunk's
                                       extracted fields when a search has already dropped _raw
  phase=map                            (in Splunk) the per-indexer extraction phase
`

// Run is the program: with no arguments it serves splunkd, otherwise it runs the local mode.
// It returns the exit status.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		cmd := &command{ctx: ctx}
		defer cmd.close() // the spill files, whatever way Serve ends: error, panic, EOF
		err := scp.Serve(ctx, stdin, stdout, cmd)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, scp.ErrReported):
			// The user sees it in Splunk Web already; stderr would only add noise to search.log.
			return 0
		default:
			fmt.Fprintf(stderr, "oktasession: %v\n", err)
			return 1
		}
	}
	cfg, err := parseLocalArgs(args)
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "oktasession: %v\n%s", err, usage)
		return 2
	}
	if err := runLocal(ctx, cfg, stdin, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "oktasession: %v\n", err)
		return 1
	}
	return 0
}

// Argument names beyond the engine's: phase selects the map side of the command, input what
// the map phase asks splunkd for.
const (
	argPhase = "phase"
	argInput = "input"
)

// The values of input=.
const (
	inputRaw    = "raw"    // the Okta JSON in _raw
	inputFields = "fields" // Splunk's extracted fields (after | table, | inputlookup)
)

// params is a parsed argument list.
type params struct {
	opts  session.Options
	phase string   // "" (sequence) or "map"
	input string   // inputRaw or inputFields
	rest  []string // the engine's arguments, normalized, for the map phase's command line
}

// parseParams reads the SPL arguments. Every error names the argument and what it accepts.
func parseParams(args []string) (params, error) {
	p := params{input: inputRaw}
	valid := append(append([]string(nil), session.ArgNames...), argInput, argPhase)
	var engineArgs []string
	for _, a := range args {
		key, val, ok := strings.Cut(a, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok {
			return p, fmt.Errorf("argument %q: want key=value with key one of %s", a, strings.Join(valid, ", "))
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		switch {
		case key == argPhase:
			if val != "map" {
				return p, fmt.Errorf("phase: want map, got %q", val)
			}
			p.phase = val
		case key == argInput:
			if val != inputRaw && val != inputFields {
				return p, fmt.Errorf("input: want raw (the Okta JSON in _raw) or fields (Splunk's extracted fields), got %q", val)
			}
			p.input = val
			if val != inputRaw {
				p.rest = append(p.rest, key+"="+val)
			}
		case contains(session.ArgNames, key):
			engineArgs = append(engineArgs, key+"="+val)
			p.rest = append(p.rest, key+"="+quoteArg(val))
		default:
			return p, fmt.Errorf("unknown argument %q: want one of %s", key, strings.Join(valid, ", "))
		}
	}
	opts, err := session.ParseArgs(engineArgs)
	if err != nil {
		return p, err
	}
	if p.phase == "map" && opts.Mode == session.ModeEvents {
		return p, errors.New("phase: map runs only with mode=sequences (mode=events keeps every field, so it has no map phase)")
	}
	p.opts = opts
	return p, nil
}

// searchEarliest takes the search's earliest time (searchinfo.earliest_time, epoch seconds,
// "0" for all time) unless the arguments set earliest: a sequence whose first steps may lie
// before it is marked cut=start.
func (p *params) searchEarliest(earliest string) {
	if p.opts.Earliest != 0 || p.phase == "map" {
		return
	}
	// A value splunkd sends that is not epoch seconds only costs the cut marks: the search
	// itself must still run.
	if ms, err := session.ParseEarliest(earliest); err == nil {
		p.opts.Earliest = ms
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// quoteArg quotes an SPL argument value that holds anything beyond a plain token.
func quoteArg(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\"'|=[]()\\") {
		return v
	}
	return `"` + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `\"`) + `"`
}
