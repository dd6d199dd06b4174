package modinput

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Event is one event of the XML stream; empty metadata falls back to the input's settings.
type Event struct {
	Stanza     string
	Time       time.Time // zero: let splunkd pick
	Source     string
	Sourcetype string
	Index      string
	Host       string
	Data       []byte
}

// EventWriter writes the <stream> document; it is safe for concurrent use by several
// stanzas, and keeps each page together.
type EventWriter struct {
	mu      sync.Mutex
	w       io.Writer
	buf     bytes.Buffer
	head    header // the last event's, reused while the metadata stays the same
	started bool
	closed  bool
}

// NewEventWriter writes to w; when w has a Flush method (a bufio.Writer) it is flushed after
// every page, so splunkd has the events before the checkpoint is saved.
func NewEventWriter(w io.Writer) *EventWriter {
	return &EventWriter{w: w}
}

type flusher interface{ Flush() error }

// WritePage writes events in order and flushes once.
func (ew *EventWriter) WritePage(events []Event) error {
	ew.mu.Lock()
	defer ew.mu.Unlock()
	if ew.closed {
		return fmt.Errorf("event stream: write after close")
	}
	ew.buf.Reset()
	if !ew.started {
		ew.buf.WriteString("<stream>\n")
	}
	for i := range events {
		appendEvent(&ew.buf, &events[i], &ew.head)
	}
	if _, err := ew.w.Write(ew.buf.Bytes()); err != nil {
		return fmt.Errorf("event stream: write to splunkd: %w", err)
	}
	ew.started = true
	if f, ok := ew.w.(flusher); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("event stream: flush to splunkd: %w", err)
		}
	}
	if ew.buf.Cap() > 64<<20 {
		ew.buf = bytes.Buffer{} // do not keep one huge page's buffer forever
	}
	return nil
}

// Close ends the stream document and flushes.
func (ew *EventWriter) Close() error {
	ew.mu.Lock()
	defer ew.mu.Unlock()
	if ew.closed {
		return nil
	}
	ew.closed = true
	if ew.started {
		if _, err := io.WriteString(ew.w, "</stream>\n"); err != nil {
			return fmt.Errorf("event stream: close: %w", err)
		}
	}
	if f, ok := ew.w.(flusher); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("event stream: flush to splunkd: %w", err)
		}
	}
	return nil
}

func appendEvent(b *bytes.Buffer, e *Event, h *header) {
	h.set(e)
	b.Write(h.open)
	if !e.Time.IsZero() {
		b.WriteString("<time>")
		var tmp [32]byte
		b.Write(AppendTime(tmp[:0], e.Time))
		b.WriteString("</time>")
	}
	b.Write(h.meta)
	b.WriteString("<data>")
	appendEscaped(b, e.Data, false)
	b.WriteString("</data><done/></event>\n")
}

// header is an event's escaped opening tag and metadata elements, kept from one event to the
// next: the events of a page share them, and escaping them again for each was repeated work.
type header struct {
	stanza, source, sourcetype, index, host string
	open, meta                              []byte
	valid                                   bool
}

// set makes h e's header, escaping only when e's metadata differs from the last event's.
func (h *header) set(e *Event) {
	if h.valid && h.stanza == e.Stanza && h.source == e.Source && h.sourcetype == e.Sourcetype &&
		h.index == e.Index && h.host == e.Host {
		return
	}
	var b bytes.Buffer
	b.WriteString(`<event`)
	if e.Stanza != "" {
		b.WriteString(` stanza="`)
		appendEscaped(&b, []byte(e.Stanza), true)
		b.WriteByte('"')
	}
	b.WriteString(` unbroken="1">`)
	h.open = bytes.Clone(b.Bytes())
	b.Reset()
	element(&b, "source", e.Source)
	element(&b, "sourcetype", e.Sourcetype)
	element(&b, "index", e.Index)
	element(&b, "host", e.Host)
	h.meta = bytes.Clone(b.Bytes())
	h.stanza, h.source, h.sourcetype, h.index, h.host, h.valid = e.Stanza, e.Source, e.Sourcetype, e.Index, e.Host, true
}

func element(b *bytes.Buffer, name, value string) {
	if value == "" {
		return
	}
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	appendEscaped(b, []byte(value), false)
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

// AppendTime appends t as epoch seconds with milliseconds, the form splunkd reads in <time>.
func AppendTime(dst []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	dst = strconv.AppendInt(dst, sec, 10)
	dst = append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return dst
}

// appendEscaped writes s as XML character data. Characters XML 1.0 cannot carry (control
// characters, U+FFFE, U+FFFF, invalid UTF-8) become U+FFFD; events never hold them (valid
// JSON has no raw control characters, and the okta client's text rule, shared by every sink,
// has replaced the others already), so an event's bytes pass through unchanged. \r is written as a reference so XML parsing does
// not fold it. This is the input's hot path: ASCII runs are skipped a word at a time, and only
// the few non-ASCII sequences are decoded (which also checks them as UTF-8).
func appendEscaped(b *bytes.Buffer, s []byte, attr bool) {
	i := 0
	if !attr {
		if i = plainPrefix(s); i == len(s) {
			b.Write(s) // most of Okta's events: one copy, no per-byte decisions
			return
		}
	}
	table := &textSpecial
	if attr {
		table = &attrSpecial
	}
	start := 0
	for i < len(s) {
		if !attr && i+8 <= len(s) {
			// Jump to the first byte that may need attention, or past a clean word.
			m := textMask(binary.LittleEndian.Uint64(s[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
				b.Write(s[start:i])
				b.WriteString("\uFFFD")
				start = i + size
			}
			i += size
			continue
		}
		if !table[c] {
			i++
			continue
		}
		b.Write(s[start:i])
		b.WriteString(escapes[c])
		i++
		start = i
	}
	b.Write(s[start:])
}

// plainPrefix returns a length of s's start that XML text carries as is (every byte
// printable ASCII, 0x20-0x7f, other than &, < and >): all of s when that holds, else at most
// up to the first byte that needs attention. Most of Okta's events hold none, so it first asks
// whether s is clean the cheap way, and finds the first such byte only when it is not.
func plainPrefix(s []byte) int {
	if clean(s) {
		return len(s)
	}
	return firstSpecial(s)
}

// clean reports whether every byte of s is printable ASCII other than &, < and >. Control
// and non-ASCII bytes are found a word at a time with two operations and no branch (a byte
// below 0x20 borrows, so its high bit is set after the subtraction; a byte of 0x80 or more
// has it set already); &, < and > by bytes.IndexByte, which is vectorised: together a third
// of the work of firstSpecial's masks.
func clean(s []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var acc uint64
	// 64 bytes a step, indexed from a fixed start: the step's one bounds check covers its
	// eight loads, and the loop costs less than reslicing would.
	n := len(s) &^ 63
	for i := 0; i < n; i += 64 {
		w := s[i : i+64 : i+64]
		w0, w1 := binary.LittleEndian.Uint64(w[0:]), binary.LittleEndian.Uint64(w[8:])
		w2, w3 := binary.LittleEndian.Uint64(w[16:]), binary.LittleEndian.Uint64(w[24:])
		w4, w5 := binary.LittleEndian.Uint64(w[32:]), binary.LittleEndian.Uint64(w[40:])
		w6, w7 := binary.LittleEndian.Uint64(w[48:]), binary.LittleEndian.Uint64(w[56:])
		a := (w0 - ones*0x20) | w0 | (w1 - ones*0x20) | w1 | (w2 - ones*0x20) | w2 | (w3 - ones*0x20) | w3
		b := (w4 - ones*0x20) | w4 | (w5 - ones*0x20) | w5 | (w6 - ones*0x20) | w6 | (w7 - ones*0x20) | w7
		if acc |= a | b; acc&highs != 0 {
			return false
		}
	}
	t := s[n:]
	for ; len(t) >= 8; t = t[8:] {
		w := binary.LittleEndian.Uint64(t[0:8])
		acc |= (w - ones*0x20) | w
	}
	if acc&highs != 0 {
		return false
	}
	for _, c := range t {
		if c < 0x20 || c >= utf8.RuneSelf {
			return false
		}
	}
	return bytes.IndexByte(s, '&') < 0 && bytes.IndexByte(s, '<') < 0 && bytes.IndexByte(s, '>') < 0
}

// firstSpecial returns the index of the first byte of s that XML text cannot carry as is,
// or len(s). It ORs the masks of four words before it branches.
func firstSpecial(s []byte) int {
	n := len(s)
	// Reslicing by constants lets the compiler drop the bounds checks inside the loop.
	for ; len(s) >= 32; s = s[32:] {
		if textMask(binary.LittleEndian.Uint64(s[0:8]))|textMask(binary.LittleEndian.Uint64(s[8:16]))|
			textMask(binary.LittleEndian.Uint64(s[16:24]))|textMask(binary.LittleEndian.Uint64(s[24:32])) != 0 {
			return n - len(s)
		}
	}
	for ; len(s) >= 8; s = s[8:] {
		if textMask(binary.LittleEndian.Uint64(s[0:8])) != 0 {
			return n - len(s)
		}
	}
	for k, c := range s {
		if c < 0x20 || c >= utf8.RuneSelf || c == '&' || c == '<' || c == '>' {
			return n - len(s) + k
		}
	}
	return n
}

// textMask is non-zero if and only if a byte of w is below 0x20, 0x80 or above, &, < or >
// (SWAR; with none of these there is no borrow, so no false alarm). Its lowest flag marks
// the first such byte; flags above it may be false (borrows).
func textMask(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// '<' (0x3c) and '>' (0x3e) differ only in bit 1: clearing it after the XOR makes both,
	// and nothing else, zero.
	amp, angle := w^(ones*'&'), (w^(ones*'<'))&^(ones*2)
	return ((w - ones*0x20) | (amp - ones) | (angle - ones) | w) & highs
}

var (
	textSpecial, attrSpecial [256]bool
	escapes                  [256]string
)

func init() {
	for c := 0; c < 0x20; c++ {
		escapes[c] = "\uFFFD"
	}
	escapes['&'], escapes['<'], escapes['>'], escapes['"'] = "&amp;", "&lt;", "&gt;", "&quot;"
	escapes['\r'], escapes['\n'], escapes['\t'] = "&#xD;", "&#xA;", "&#x9;"
	for c := range 128 {
		special := c < 0x20 || c == '&' || c == '<' || c == '>'
		attrSpecial[c] = special || c == '"'
		textSpecial[c] = special && c != '\n' && c != '\t'
	}
}
