package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oktasight/oktasight/app/session"
)

var errHelp = errors.New("help requested")

// localConfig is the local mode's command line.
type localConfig struct {
	file   string
	format string
	p      params
}

// parseLocalArgs reads `--file FILE [key=value ...] [--format table|csv|json]`.
func parseLocalArgs(args []string) (localConfig, error) {
	cfg := localConfig{format: "table"}
	var spl []string
	haveFile := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || a == "-" {
			spl = append(spl, a)
			continue
		}
		switch name {
		case "h", "help":
			return cfg, errHelp
		case "file", "format":
			if !hasVal {
				if i+1 >= len(args) {
					return cfg, fmt.Errorf("--%s needs a value", name)
				}
				i++
				val = args[i]
			}
			if name == "file" {
				cfg.file, haveFile = val, true
			} else {
				cfg.format = val
			}
		default:
			return cfg, fmt.Errorf("unknown flag %q", a)
		}
	}
	if !haveFile {
		return cfg, errors.New("--file is required (use - for stdin)")
	}
	switch cfg.format {
	case "table", "csv", "json":
	default:
		return cfg, fmt.Errorf("--format: want table, csv or json, got %q", cfg.format)
	}
	p, err := parseParams(spl)
	if err != nil {
		return cfg, err
	}
	if p.phase != "" || p.opts.Mode != session.ModeSequences {
		return cfg, errors.New("the local mode prints sequences: phase and mode=events apply in Splunk only")
	}
	cfg.p = p
	return cfg, nil
}

// multiFields are the multivalue fields of a sequence row; numeric the ones JSON writes as
// numbers.
var (
	multiFields = map[string]bool{"missing": true, "src_ip": true, "user_agent": true, "steps": true, "mfa_factors": true,
		"reasons": true, "uuids": true, "behaviors": true, "dt_hash": true, "country": true, "city": true, "asn": true, "isp": true}
	numericFields = map[string]bool{"_time": true, "start": true, "end": true, "duration": true, "event_count": true,
		"mfa_sent": true, "mfa_verified": true, "mfa_enrolled": true, "mfa_failed": true}
)

// runLocal sequences an NDJSON file of Okta events and prints the sequences.
func runLocal(ctx context.Context, cfg localConfig, stdin io.Reader, stdout, stderr io.Writer) error {
	in := stdin
	if cfg.file != "-" {
		f, err := os.Open(cfg.file)
		if err != nil {
			return fmt.Errorf("opening events: %w", err)
		}
		defer f.Close()
		in = f
	}
	out := bufio.NewWriterSize(stdout, 1<<16)
	var seqs []*session.Sequence
	var werr error
	// csv is plain CSV for spreadsheets: a multivalue is one cell, its values on separate lines
	// (the form of Splunk's plain column).
	csvw := csv.NewWriter(out)
	if cfg.format == "csv" {
		werr = csvw.Write(session.SequenceFields)
	}
	record := make([]string, len(session.SequenceFields))
	emit := func(s *session.Sequence) {
		switch cfg.format {
		case "table":
			seqs = append(seqs, s.Clone())
		case "json":
			if werr == nil {
				werr = writeJSON(out, s)
			}
		case "csv":
			for i, vals := range s.Fields() {
				record[i] = strings.Join(vals, "\n")
			}
			if werr == nil {
				werr = csvw.Write(record)
			}
		}
	}
	eng := session.New(cfg.p.opts, emit, nil)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
	var ev session.Event
	line, bad := 0, 0
	for sc.Scan() {
		line++
		if line%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		if err := session.ParseRaw(b, &ev); err != nil || ev.Time == 0 {
			bad++
			continue
		}
		eng.Add(&ev)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading events (line %d): %w", line+1, err)
	}
	eng.Close()
	if cfg.format == "csv" {
		csvw.Flush()
		if werr == nil {
			werr = csvw.Error()
		}
	}
	if cfg.format == "table" {
		slices.SortStableFunc(seqs, func(a, b *session.Sequence) int {
			if a.Start != b.Start {
				return int(a.Start - b.Start)
			}
			return strings.Compare(a.ID, b.ID)
		})
		werr = writeTable(out, seqs)
	}
	if werr == nil {
		werr = out.Flush()
	}
	if werr != nil {
		return fmt.Errorf("writing sequences: %w", werr)
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "oktasession: skipped %d of %d lines that are not Okta events with a published time\n", bad, line)
	}
	return nil
}

// writeJSON writes one sequence as a JSON object on one line, in SequenceFields order.
func writeJSON(w io.Writer, s *session.Sequence) error {
	var b strings.Builder
	b.WriteByte('{')
	for i, vals := range s.Fields() {
		name := session.SequenceFields[i]
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		switch {
		case multiFields[name]:
			if vals == nil {
				vals = []string{}
			}
			v, _ := json.Marshal(vals)
			b.Write(v)
		case len(vals) == 0:
			b.WriteString("null")
		case numericFields[name]:
			b.WriteString(vals[0])
		default:
			v, _ := json.Marshal(vals[0])
			b.Write(v)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// tableColumns are the fields a person reads first; --format csv or json has them all.
var tableColumns = []string{"start", "flow", "status", "cut", "user", "src_ip", "duration", "event_count", "mfa_factors", "stopped_at", "missing", "seq_id"}

// writeTable writes sequences as aligned columns.
func writeTable(w io.Writer, seqs []*session.Sequence) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(tableColumns, "\t")))
	pos := make([]int, len(tableColumns))
	for i, c := range tableColumns {
		pos[i] = slices.Index(session.SequenceFields, c)
	}
	for _, s := range seqs {
		f := s.Fields()
		cells := make([]string, len(tableColumns))
		for i, c := range tableColumns {
			vals := f[pos[i]]
			switch {
			case c == "start":
				cells[i] = time.UnixMilli(s.Start).UTC().Format("2006-01-02T15:04:05.000Z")
			case len(vals) == 0:
				cells[i] = "-"
			default:
				cells[i] = strings.Join(vals, ",")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
