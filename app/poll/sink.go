package poll

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/oktasight/oktasight/app/modinput"
	"github.com/oktasight/oktasight/app/okta"
)

// SplunkSink writes events to splunkd as the modular-input XML stream.
type SplunkSink struct {
	w                                       *modinput.EventWriter
	stanza, source, sourcetype, index, host string
	buf                                     []modinput.Event
}

// NewSplunkSink returns a sink for one stanza; w may be shared by several stanzas.
func NewSplunkSink(w *modinput.EventWriter, stanza, source, sourcetype, index, host string) *SplunkSink {
	return &SplunkSink{w: w, stanza: stanza, source: source, sourcetype: sourcetype, index: index, host: host}
}

// WritePage writes the page as one flushed batch of XML events.
func (s *SplunkSink) WritePage(_ context.Context, events []okta.Event) error {
	s.buf = s.buf[:0]
	for _, ev := range events {
		s.buf = append(s.buf, modinput.Event{
			Stanza: s.stanza, Time: ev.Published, Source: s.source, Sourcetype: s.sourcetype,
			Index: s.index, Host: s.host, Data: ev.Raw,
		})
	}
	return s.w.WritePage(s.buf)
}

// NDJSONSink writes one Okta event per line, byte for byte as Okta sent it, for standalone use.
type NDJSONSink struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	file *os.File // fsynced after each page when the output is a file
}

// NewNDJSONSink writes to w; when w is an *os.File that is a regular file, each page is fsynced
// before WritePage returns, so the checkpoint never runs ahead of what is on disk.
func NewNDJSONSink(w io.Writer) *NDJSONSink {
	s := &NDJSONSink{bw: bufio.NewWriterSize(w, 1<<20)}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			s.file = f
		}
	}
	return s
}

// WritePage writes, flushes and (for files) syncs the page.
func (s *NDJSONSink) WritePage(_ context.Context, events []okta.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range events {
		raw := ev.Raw
		if bytes.ContainsAny(raw, "\r\n") {
			// Okta sends compact JSON; should an element ever hold line breaks between
			// tokens, compact it so the output stays one event per line.
			var c bytes.Buffer
			if err := json.Compact(&c, raw); err != nil {
				return fmt.Errorf("event %s: %w", ev.UUID, err)
			}
			raw = c.Bytes()
		}
		s.bw.Write(raw)
		s.bw.WriteByte('\n')
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	if s.file != nil {
		if err := s.file.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", s.file.Name(), err)
		}
	}
	return nil
}
